package org.mae4j.probe;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.ParamStore;
import org.mae4j.train.Lars;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ProbeHead} on hand-checkable inputs (BatchNorm statistics, running-statistics update, eval mode), a
 * finite-difference check of its gradients, and end to end with {@link Lars} on linearly separable raw features
 * (the raw-pixel baseline's situation: any float rows are features).
 */
class ProbeHeadTest {

    @Test
    void layoutIsTheReferenceStateDict() {
        ParamStore s = ProbeHead.create(5, 3, DataType.FLOAT, new Random(0));
        assertEquals(List.of("head.0.running_mean", "head.0.running_var", "head.0.num_batches_tracked", "head.1.weight", "head.1.bias"),
                s.entries().stream().map(ParamStore.Entry::name).toList());
        assertEquals(15 + 3, s.numTrainable(), "only the Linear is trainable");
        assertArrayEquals(new long[0], s.entry(ProbeHead.NUM_BATCHES).shape(), "num_batches_tracked is a scalar, as in the reference");
        assertEquals(0, s.param(ProbeHead.RUNNING_MEAN).sumNumber().doubleValue());
        assertEquals(5, s.param(ProbeHead.RUNNING_VAR).sumNumber().doubleValue(), "running_var starts at 1");
        assertEquals(0, s.param(ProbeHead.BIAS).sumNumber().doubleValue());
    }

    /** What a checkpoint does with the store: every entry, the scalar count included, through .npy and back. */
    @Test
    void headStateRoundTripsThroughNpyFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        ParamStore s = ProbeHead.create(4, 3, DataType.FLOAT, new Random(8));
        ProbeHead h = new ProbeHead(s);
        for (int t = 0; t < 3; t++) h.forwardTrain(new float[] {1, 2, 3, 4, 0, -1, 5, 2, 7, 7, 1, 0}, new int[] {0, 2, 1}, 3);
        org.mae4j.io.NpyWeights.save(s, dir);
        ParamStore back = ProbeHead.create(4, 3, DataType.FLOAT, new Random(9));
        org.mae4j.io.NpyWeights.load(back, dir);
        assertArrayEquals(s.flatParams().toFloatVector(), back.flatParams().toFloatVector());
        assertEquals(3, back.param(ProbeHead.NUM_BATCHES).getDouble(0));
    }

    @Test
    void initialWeightsHaveTheReferencesScale() {
        ParamStore s = ProbeHead.create(200, 50, DataType.FLOAT, new Random(1));
        double[] w = s.param(ProbeHead.WEIGHT).dup().reshape(10_000).toDoubleVector();
        double sum = 0, sq = 0;
        for (double v : w) { sum += v; sq += v * v; }
        double mean = sum / w.length, std = Math.sqrt(sq / w.length - mean * mean);
        // 10,000 draws of N(0, 0.01^2): the sample std is within 3% and the mean within 4 standard errors (4e-4)
        assertEquals(0.01, std, 3e-4, "std");
        assertEquals(0, mean, 4e-4, "mean");
    }

    /** Two rows per feature: mean, biased and unbiased variance by hand. */
    @Test
    void batchNormUsesBatchStatisticsAndMovesTheRunningOnes() {
        ParamStore s = ProbeHead.create(2, 2, DataType.FLOAT, new Random(2));
        ProbeHead h = new ProbeHead(s);
        // feature 0: {1, 3}: mean 2, biased var 1, unbiased 2; feature 1: {-4, -4}: mean -4, var 0
        float[] x = {1, -4, 3, -4};
        h.forwardTrain(x, new int[] {0, 1}, 2);
        float[] z = h.normalized();
        double inv = 1 / Math.sqrt(1 + 1e-6);
        assertArrayEquals(new float[] {(float) -inv, 0, (float) inv, 0}, z, 1e-7f, "bn_out");
        assertArrayEquals(new float[] {0.2f, -0.4f}, s.param(ProbeHead.RUNNING_MEAN).toFloatVector(), 1e-7f, "0.9 * 0 + 0.1 * mean");
        assertArrayEquals(new float[] {1.1f, 0.9f}, s.param(ProbeHead.RUNNING_VAR).toFloatVector(), 1e-7f, "0.9 * 1 + 0.1 * unbiased var");
        assertEquals(1, s.param(ProbeHead.NUM_BATCHES).getDouble(0));

        // eval mode: (x - running_mean) / sqrt(running_var + eps), and nothing in the store moves
        float[] before = s.flatParams().dup().data().asFloat();
        h.forwardEval(new float[] {1.2f, 0.5f}, 1);
        assertArrayEquals(new float[] {(float) (1 / Math.sqrt(1.1 + 1e-6)), (float) (0.9 / Math.sqrt(0.9 + 1e-6))}, h.normalized(), 1e-6f);
        assertArrayEquals(before, s.flatParams().dup().data().asFloat(), "eval mode changes no state");
    }

    @Test
    void logitsAndLossFollowTheirDefinition() {
        ParamStore s = ProbeHead.create(3, 4, DataType.DOUBLE, new Random(3));
        s.param(ProbeHead.BIAS).assign(org.nd4j.linalg.factory.Nd4j.createFromArray(0.5, -1.0, 0.25, 2.0));
        ProbeHead h = new ProbeHead(s);
        float[] x = {0.3f, -1.2f, 2.0f, 1.1f, 0.4f, -0.7f, -0.5f, 0.9f, 0.1f};
        int[] y = {3, 0, 2};
        double loss = h.forwardTrain(x, y, 3);
        double[][] w = s.param(ProbeHead.WEIGHT).toDoubleMatrix();
        double[] b = s.param(ProbeHead.BIAS).toDoubleVector();
        float[] z = h.normalized(), logits = h.logits();
        double want = 0;
        for (int i = 0; i < 3; i++) {
            double[] l = new double[4];
            double sumExp = 0;
            for (int c = 0; c < 4; c++) {
                l[c] = b[c];
                for (int j = 0; j < 3; j++) l[c] += w[c][j] * z[i * 3 + j];
                assertEquals(l[c], logits[i * 4 + c], 1e-6, "logit " + i + "," + c);
                sumExp += Math.exp(l[c]);
            }
            want += -(l[y[i]] - Math.log(sumExp)) / 3;
        }
        assertEquals(want, loss, 1e-6);
    }

    /** Central differences in double of the train-mode loss against backward(). */
    @Test
    void gradientsMatchFiniteDifferences() {
        ParamStore s = ProbeHead.create(6, 4, DataType.DOUBLE, new Random(4));
        Random r = new Random(5);
        for (int i = 0; i < 4; i++) s.param(ProbeHead.BIAS).putScalar(i, r.nextGaussian());
        s.param(ProbeHead.WEIGHT).muli(100);   // logits of order 1, so the softmax is not flat
        ProbeHead h = new ProbeHead(s);
        int n = 5;
        float[] x = new float[n * 6];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 2 + 1);
        int[] y = {0, 3, 1, 1, 2};
        h.forwardTrain(x, y, n);
        s.zeroGrad();
        h.backward();
        for (String key : List.of(ProbeHead.WEIGHT, ProbeHead.BIAS)) {
            var p = s.param(key).reshape(s.param(key).length());
            var g = s.grad(key).reshape(s.grad(key).length());
            for (int i = 0; i < p.length(); i++) {
                double v = p.getDouble(i), eps = 1e-5;
                p.putScalar(i, v + eps);
                double up = h.forwardTrain(x, y, n);
                p.putScalar(i, v - eps);
                double down = h.forwardTrain(x, y, n);
                p.putScalar(i, v);
                double fd = (up - down) / (2 * eps), an = g.getDouble(i);
                assertEquals(fd, an, 1e-7, key + "[" + i + "]");
            }
        }
    }

    @Test
    void backwardAccumulates() {
        ParamStore s = ProbeHead.create(3, 2, DataType.DOUBLE, new Random(6));
        ProbeHead h = new ProbeHead(s);
        float[] x = {1, 2, 3, -1, 0, 4};
        h.forwardTrain(x, new int[] {0, 1}, 2);
        s.zeroGrad();
        h.backward();
        double[] once = s.flatGrads().dup().toDoubleVector();
        h.backward();
        double[] twice = s.flatGrads().toDoubleVector();
        for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-15);
    }

    @Test
    void badInputIsRefusedWithTheNumbers() {
        ProbeHead h = new ProbeHead(ProbeHead.create(3, 2, DataType.FLOAT, new Random(7)));
        var e = assertThrows(IllegalArgumentException.class, () -> h.forwardTrain(new float[3], new int[] {0}, 1));
        assertTrue(e.getMessage().contains("at least 2 rows"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> h.forwardTrain(new float[6], new int[] {0, 2}, 2));
        assertTrue(e.getMessage().contains("label 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> h.forwardEval(new float[5], 2));
        assertTrue(e.getMessage().contains("x has 5 values"), e.getMessage());
        assertThrows(IllegalStateException.class, h::backward);
        assertTrue(Double.isNaN(h.forwardTrain(new float[] {Float.NaN, 0, 0, 1, 2, 3}, new int[] {0, 1}, 2)),
                "a NaN feature gives a NaN loss for the loop to report, not an exception from the head");
        e = assertThrows(IllegalArgumentException.class, () -> ProbeHead.create(3, 1, DataType.FLOAT, new Random(0)));
        assertTrue(e.getMessage().contains("at least 2 classes"), e.getMessage());
    }

    /**
     * Linearly separable by construction: class c has feature c at 5 + U(-1, 1), every other feature at
     * U(-1, 1) (so argmax over the first `classes` features is a perfect linear classifier), with a different
     * offset and scale per feature as raw pixels would have. The head with the reference's LARS must reach
     * 100% on the training rows and on fresh rows.
     */
    @Test
    void larsProbeSeparatesLinearlySeparableRawFeatures() {
        int d = 24, classes = 5, n = 1000, batch = 50;
        Features train = separable(n, d, classes, new Random(10)), test = separable(400, d, classes, new Random(11));
        ParamStore s = ProbeHead.create(d, classes, DataType.FLOAT, new Random(12));
        ProbeHead h = new ProbeHead(s);
        Lars lars = new Lars(s, Lars.Hyper.reference());
        Random shuffle = new Random(13);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        float[] xb = new float[batch * d];
        int[] yb = new int[batch];
        double first = Double.NaN, last = Double.NaN;
        for (int epoch = 0; epoch < 30; epoch++) {
            for (int i = n - 1; i > 0; i--) { int j = shuffle.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
            for (int start = 0; start + batch <= n; start += batch) {
                train.gather(order, start, batch, xb, yb);
                last = h.forwardTrain(xb, yb, batch);
                if (Double.isNaN(first)) first = last;
                s.zeroGrad();
                h.backward();
                lars.step(4.0);
            }
        }
        assertTrue(last < first / 4, "the loss falls: " + first + " -> " + last);
        assertEquals(1.0, h.evaluate(train).top1(), "training accuracy");
        ProbeHead.Score score = h.evaluate(test);
        assertEquals(1.0, score.top1(), "held-out accuracy");
        assertEquals(1.0, score.top5());
        assertEquals(400, score.n());
    }

    private static Features separable(int n, int d, int classes, Random r) {
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
            for (int j = 0; j < d; j++) {
                double v = 2 * r.nextDouble() - 1 + (j == y[i] ? 5 : 0);
                x[i * d + j] = (float) (v * (1 + 0.5 * j) + 30 * j);
            }
        }
        return new Features(x, y, n, d);
    }
}
