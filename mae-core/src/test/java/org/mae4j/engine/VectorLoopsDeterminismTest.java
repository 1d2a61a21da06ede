package org.mae4j.engine;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The softmax exp and the lane sums are written so that compiled and interpreted code give the same bits
 * (issue 16: two runs with one seed drifted apart from the first steps). These check their accuracy and that
 * the vector body and the scalar twin agree bit for bit.
 */
class VectorLoopsDeterminismTest {

    @Test
    void expIsWithinTwoUlpOfTheDoublePrecisionExpOverTheSoftmaxRange() {
        Random rng = new Random(1);
        double worst = 0;
        float worstX = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = i < 1000 ? -i * 0.087f : -87f * rng.nextFloat();
            double want = Math.exp(x);
            double err = Math.abs(VectorLoops.exp(x) - want) / Math.ulp((float) want);
            if (err > worst) { worst = err; worstX = x; }
        }
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp at x = " + worstX);
        assertEquals(1f, VectorLoops.exp(0f));
    }

    @Test
    void vectorSoftmaxEqualsItsScalarTwinBitForBit() {
        Random rng = new Random(2);
        int t = 3 * VectorLoops.L;   // whole vectors only, so the vector body computes every element
        for (int trial = 0; trial < 200; trial++) {
            float[] s = new float[t];
            for (int j = 0; j < t; j++) s[j] = (float) (rng.nextGaussian() * 8);
            float[] twin = s.clone();
            VectorLoops.softmaxRow(s, 0, t);
            float max = Float.NEGATIVE_INFINITY;
            for (float v : twin) max = Math.max(max, v);
            float[] lanes = new float[VectorLoops.L];
            float[] e = new float[t];
            for (int j = 0; j < t; j++) e[j] = VectorLoops.exp(twin[j] - max);
            // the vector body sums lane-wise, vector by vector, then the lanes in order
            for (int j = 0; j < t; j += VectorLoops.L) for (int q = 0; q < VectorLoops.L; q++) lanes[q] += e[j + q];
            float total = 0;
            for (float v : lanes) total += v;
            for (int j = 0; j < t; j++) {
                float want = e[j] * (1f / total);
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(s[j]), "trial " + trial + ", element " + j + ": " + want + " vs " + s[j]);
            }
        }
    }

    @Test
    void sumLanesAddsInLaneOrder() {
        float[] a = new float[VectorLoops.L];
        Random rng = new Random(3);
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(8)));
        float want = 0;
        for (float v : a) want += v;
        assertEquals(want, VectorLoops.sumLanes(FloatVector.fromArray(VectorLoops.S, a, 0), new float[VectorLoops.L]));
    }
}
