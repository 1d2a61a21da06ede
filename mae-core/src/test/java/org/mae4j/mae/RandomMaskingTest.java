package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomMaskingTest {

    private static double[][] noise(long seed, int n, int l) {
        Random r = new Random(seed);
        double[][] x = new double[n][l];
        for (double[] row : x) for (int i = 0; i < l; i++) row[i] = r.nextDouble();
        return x;
    }

    /** Every documented invariant of a sample drawn from this noise, checked against the noise itself. */
    private static void assertInvariants(double[][] noise, MaskSample m, int k) {
        int n = noise.length, l = noise[0].length;
        assertEquals(n, m.n());
        assertEquals(l, m.l());
        assertEquals(k, m.k());
        int[] shuffle = m.idsShuffle(), restore = m.idsRestore();
        assertEquals(n * l, shuffle.length);
        assertEquals(n * l, restore.length);
        double[] mask = m.mask();
        assertEquals(n * l, mask.length);
        for (int b = 0; b < n; b++) {
            // idsShuffle is a permutation of 0..L-1
            boolean[] seen = new boolean[l];
            for (int i = 0; i < l; i++) {
                int v = shuffle[b * l + i];
                assertTrue(v >= 0 && v < l && !seen[v], "row " + b + ": idsShuffle is not a permutation");
                seen[v] = true;
            }
            // idsRestore is its inverse
            for (int i = 0; i < l; i++) {
                assertEquals(i, restore[b * l + shuffle[b * l + i]], "row " + b + ": restore[shuffle[i]] != i");
                assertEquals(i, shuffle[b * l + restore[b * l + i]], "row " + b + ": shuffle[restore[i]] != i");
            }
            // idsShuffle sorts the noise ascending
            for (int i = 1; i < l; i++) {
                assertTrue(noise[b][shuffle[b * l + i - 1]] <= noise[b][shuffle[b * l + i]], "row " + b + ": not ascending at " + i);
            }
            // the kept patches are the K smallest noise values, in ascending-noise order (selection by repeated minimum)
            boolean[] taken = new boolean[l];
            for (int i = 0; i < k; i++) {
                int best = -1;
                for (int j = 0; j < l; j++) if (!taken[j] && (best < 0 || noise[b][j] < noise[b][best])) best = j;
                taken[best] = true;
                assertEquals(best, m.kept(b, i), "row " + b + ": kept patch " + i);
            }
            // mask == (rank >= K), exactly L - K removed, and removed() agrees; rank(b, l) = number of smaller noise values
            int removed = 0;
            for (int j = 0; j < l; j++) {
                int smaller = 0;
                for (int o = 0; o < l; o++) if (noise[b][o] < noise[b][j]) smaller++;
                assertEquals(smaller, m.rank(b, j), "row " + b + " patch " + j + " rank");
                boolean rem = m.rank(b, j) >= k;
                assertEquals(rem ? 1.0 : 0.0, mask[b * l + j], "row " + b + " patch " + j + " mask");
                assertEquals(rem, m.removed(b, j));
                assertEquals(!taken[j], rem, "row " + b + " patch " + j + ": removed iff not among the K smallest");
                if (rem) removed++;
            }
            assertEquals(l - k, removed, "row " + b + ": number of removed patches");
        }
    }

    @Test
    void invariantsOnRandomNoise() {
        for (int[] nl : new int[][]{{5, 49}, {3, 16}, {1, 64}, {2, 196}, {4, 1}}) {
            for (double ratio : new double[]{0.75, 0.5, 0.0, 0.9}) {
                int n = nl[0], l = nl[1];
                int k = (int) Math.floor(l * (1 - ratio));
                if (k < 1) continue;
                double[][] x = noise(31L * n + l, n, l);
                assertInvariants(x, RandomMasking.fromNoise(x, ratio), k);
            }
        }
    }

    @Test
    void ndarrayNoiseGivesTheSameSample() {
        double[][] x = noise(11, 4, 49);
        INDArray d = Nd4j.createFromArray(x);
        assertEquals(RandomMasking.fromNoise(x, 0.75), RandomMasking.fromNoise(d, 0.75));
        // float noise: the sample is that of the float-rounded values
        INDArray f = d.castTo(DataType.FLOAT);
        MaskSample mf = RandomMasking.fromNoise(f, 0.75);
        assertInvariants(f.toDoubleMatrix(), mf, 12);
    }

    @Test
    void handWorkedExample() {
        // L = 4, ratio 0.5 -> K = 2; noise order: patch 2 (0.1) < patch 0 (0.3) < patch 3 (0.6) < patch 1 (0.9)
        MaskSample m = RandomMasking.fromNoise(new double[][]{{0.3, 0.9, 0.1, 0.6}}, 0.5);
        assertEquals(2, m.k());
        assertArrayEquals(new int[]{2, 0, 3, 1}, m.idsShuffle());
        assertArrayEquals(new int[]{1, 3, 0, 2}, m.idsRestore());
        assertArrayEquals(new double[]{0, 1, 0, 1}, m.mask());
        assertEquals(2, m.kept(0, 0));
        assertEquals(0, m.kept(0, 1));
    }

    @Test
    void tiesAreBrokenByPatchIndex() {
        MaskSample m = RandomMasking.fromNoise(new double[][]{{0.5, 0.5, 0.5, 0.5}, {0.2, 0.1, 0.2, 0.1}}, 0.5);
        assertArrayEquals(new int[]{0, 1, 2, 3, 1, 3, 0, 2}, m.idsShuffle());
    }

    @Test
    void keptCountTruncatesLikeTheReference() {
        assertEquals(12, RandomMasking.numKept(49, 0.75));   // int(12.25)
        assertEquals(4, RandomMasking.numKept(16, 0.75));
        assertEquals(16, RandomMasking.numKept(64, 0.75));
        assertEquals(49, RandomMasking.numKept(196, 0.75));
        assertEquals(64, RandomMasking.numKept(256, 0.75));
        assertEquals(2, RandomMasking.numKept(10, 0.75));    // int(2.5)
        assertEquals(24, RandomMasking.numKept(49, 0.5));    // int(24.5)
        assertEquals(49, RandomMasking.numKept(49, 0.0));
        assertEquals(1, RandomMasking.numKept(4, 0.75));
        assertEquals(12, RandomMasking.fromNoise(noise(1, 2, 49), 0.75).k());
        assertEquals(4, RandomMasking.fromNoise(noise(1, 2, 16), 0.75).k());
    }

    @Test
    void badRatiosAreRejected() {
        for (double r : new double[]{1.0, -0.1, Double.NaN, 2}) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.numKept(49, r));
            assertTrue(ex.getMessage().contains(String.valueOf(r)), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(noise(1, 1, 49), r));
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.numKept(4, 0.9));
        assertTrue(ex.getMessage().contains("0.9") && ex.getMessage().contains("4"), ex.getMessage());
    }

    @Test
    void sampleIsDeterministicPerSeed() {
        MaskSample a = RandomMasking.sample(4, 49, 0.75, new Random(123));
        MaskSample b = RandomMasking.sample(4, 49, 0.75, new Random(123));
        MaskSample c = RandomMasking.sample(4, 49, 0.75, new Random(124));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, c);
        assertEquals(12, a.k());
        assertEquals(4, a.n());
        assertEquals(49, a.l());
        // a sample is a valid permutation/rank pair with 37 removed per row
        double[] mask = a.mask();
        for (int row = 0; row < 4; row++) {
            double s = 0;
            for (int i = 0; i < 49; i++) s += mask[row * 49 + i];
            assertEquals(37, s, 0.0);
            for (int i = 0; i < 49; i++) assertEquals(i, a.rank(row, a.idsShuffle()[row * 49 + i]));
        }
        // images of a batch get different masks
        assertNotEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(a.idsShuffle(), 0, 49)),
                java.util.Arrays.toString(java.util.Arrays.copyOfRange(a.idsShuffle(), 49, 98)));
    }

    @Test
    void nanNoiseAndBadShapesAreRejected() {
        double[][] x = noise(5, 3, 16);
        x[1][7] = Double.NaN;
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(x, 0.75));
        assertTrue(ex.getMessage().contains("NaN") && ex.getMessage().contains("1"), ex.getMessage());

        double[][] ragged = {new double[16], new double[15]};
        ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(ragged, 0.75));
        assertTrue(ex.getMessage().contains("15") && ex.getMessage().contains("16"), ex.getMessage());

        ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(Nd4j.rand(DataType.FLOAT, 16), 0.75));
        assertTrue(ex.getMessage().contains("[16]"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(Nd4j.rand(DataType.FLOAT, 2, 4, 4), 0.75));
        assertTrue(ex.getMessage().contains("[2, 4, 4]"), ex.getMessage());

        INDArray nanNoise = Nd4j.rand(DataType.FLOAT, 2, 16);
        nanNoise.putScalar(0, 3, Float.NaN);
        assertThrows(IllegalArgumentException.class, () -> RandomMasking.fromNoise(nanNoise, 0.75));
    }

    @Test
    void keepAllKeepsEveryPatchInImageOrder() {
        MaskSample m = MaskSample.keepAll(3, 16);
        assertEquals(16, m.k());
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 16; i++) {
                assertEquals(i, m.kept(b, i));
                assertEquals(i, m.rank(b, i));
                assertTrue(!m.removed(b, i));
            }
        assertArrayEquals(new double[48], m.mask());
        assertEquals(m, RandomMasking.fromNoise(new double[3][16], 0.0), "all-equal noise at ratio 0 keeps all in image order");
    }

    @Test
    void maskSampleValidatesAndCopies() {
        assertThrows(IllegalArgumentException.class, () -> new MaskSample(1, 4, 0, new int[4], new int[4]));
        assertThrows(IllegalArgumentException.class, () -> new MaskSample(1, 4, 5, new int[4], new int[4]));
        assertThrows(IllegalArgumentException.class, () -> new MaskSample(0, 4, 1, new int[0], new int[0]));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new MaskSample(2, 4, 1, new int[8], new int[7]));
        assertTrue(ex.getMessage().contains("8") && ex.getMessage().contains("7"), ex.getMessage());

        int[] ids = {0, 1, 2, 3};
        MaskSample m = new MaskSample(1, 4, 2, ids, ids);
        ids[0] = 3;
        assertEquals(0, m.kept(0, 0), "constructor must copy its arrays");
        m.idsShuffle()[0] = 3;
        m.idsRestore()[0] = 3;
        assertEquals(0, m.kept(0, 0), "accessors must return copies");
        assertEquals(0, m.rank(0, 0));
    }
}
