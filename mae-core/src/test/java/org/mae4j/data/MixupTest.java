package org.mae4j.data;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MixupTest {

    private static float[] randomImages(int n, int c, int s, Random r) {
        float[] a = new float[n * c * s * s];
        for (int i = 0; i < a.length; i++) a[i] = r.nextFloat();
        return a;
    }

    private static int[] randomLabels(int n, int classes, Random r) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(classes);
        return y;
    }

    @Test
    void maePresetMatchesTheReferenceDefaults() {
        Mixup m = Mixup.mae();
        assertEquals(0.8, m.mixupAlpha());
        assertEquals(1.0, m.cutmixAlpha());
        assertEquals(0.5, m.switchProb());
        assertEquals(1.0, m.prob());
        assertEquals(0.1, m.smoothing());
        assertTrue(m.correctLam());
        assertTrue(m.enabled());
        assertTrue(!Mixup.off(0.1).enabled());
        String s = m.toString();
        assertTrue(s.contains("mixup=0.8") && s.contains("cutmix=1.0") && s.contains("switchProb=0.5")
                && s.contains("smoothing=0.1") && s.contains("prob=1.0"), s);
    }

    @Test
    void betaDrawsHaveTheBetaMeanAndVariance() {
        Random r = new Random(1);
        for (double a : new double[] {0.8, 1.0, 2.5}) {
            int draws = 200_000;
            double sum = 0, sumSq = 0;
            for (int i = 0; i < draws; i++) {
                double x = Mixup.beta(a, r);
                assertTrue(x >= 0 && x <= 1, "Beta(" + a + ") draw " + x + " outside [0, 1]");
                sum += x;
                sumSq += x * x;
            }
            double mean = sum / draws, var = sumSq / draws - mean * mean;
            // Beta(a, a): mean 1/2, variance a^2 / ((2a)^2 (2a + 1)) = 1 / (4 (2a + 1)).
            double expectedVar = 1 / (4 * (2 * a + 1));
            // Standard error of the mean is about sqrt(var / draws) < 0.0012.
            assertEquals(0.5, mean, 0.005, "mean of Beta(" + a + ")");
            assertEquals(expectedVar, var, 0.003, "variance of Beta(" + a + ")");
        }
    }

    @Test
    void gammaDrawsHaveMeanAndVarianceEqualToTheShape() {
        Random r = new Random(2);
        for (double k : new double[] {0.8, 1.0, 3.0}) {
            int draws = 200_000;
            double sum = 0, sumSq = 0;
            for (int i = 0; i < draws; i++) {
                double x = Mixup.gamma(k, r);
                assertTrue(x >= 0, "Gamma draw " + x);
                sum += x;
                sumSq += x * x;
            }
            double mean = sum / draws, var = sumSq / draws - mean * mean;
            assertEquals(k, mean, 0.02 * Math.max(1, k), "mean of Gamma(" + k + ")");
            assertEquals(k, var, 0.05 * Math.max(1, k), "variance of Gamma(" + k + ")");
        }
    }

    @Test
    void mixupPixelsAreTheConvexCombinationWithTheFlippedPartner() {
        Mixup mixupOnly = new Mixup(0.8, 0, 0.5, 1.0, 0.1, true);
        int n = 6, c = 2, s = 5, len = c * s * s, classes = 10;
        for (long seed = 0; seed < 20; seed++) {
            Random data = new Random(100 + seed);
            float[] images = randomImages(n, c, s, data);
            float[] orig = images.clone();
            int[] labels = randomLabels(n, classes, data);
            Mixup.Mixed mixed = mixupOnly.apply(images, n, c, s, labels, classes, new Random(seed));
            assertEquals(Mixup.Mode.MIXUP, mixed.mode());
            assertNull(mixed.box());
            double lam = mixed.lambda();
            assertTrue(lam >= 0 && lam <= 1, "lambda " + lam);
            for (int i = 0; i < n; i++) {
                int j = n - 1 - i;
                for (int p = 0; p < len; p++) {
                    double expected = lam * orig[i * len + p] + (1 - lam) * orig[j * len + p];
                    assertEquals(expected, images[i * len + p], 1e-6, "image " + i + " element " + p);
                }
            }
        }
    }

    @Test
    void cutmixBoxAreaIsOneMinusLambdaAndOnlyTheBoxComesFromThePartner() {
        Mixup cutmixOnly = new Mixup(0, 1.0, 0.5, 1.0, 0.1, true);
        int n = 4, c = 3, s = 16, len = c * s * s, classes = 5;
        int nonEmpty = 0;
        for (long seed = 0; seed < 200; seed++) {
            Random data = new Random(1000 + seed);
            float[] images = randomImages(n, c, s, data);
            float[] orig = images.clone();
            int[] labels = randomLabels(n, classes, data);
            Mixup.Mixed mixed = cutmixOnly.apply(images, n, c, s, labels, classes, new Random(seed));
            assertEquals(Mixup.Mode.CUTMIX, mixed.mode());
            Box box = mixed.box();
            assertNotNull(box);
            assertTrue(box.top() + box.height() <= s && box.left() + box.width() <= s, box.toString());
            assertEquals(1.0 - (double) box.area() / (s * s), mixed.lambda(), 1e-12, "corrected lambda for " + box);
            if (box.area() > 0) nonEmpty++;
            for (int i = 0; i < n; i++) {
                int j = n - 1 - i;
                for (int ch = 0; ch < c; ch++) {
                    for (int y = 0; y < s; y++) {
                        for (int x = 0; x < s; x++) {
                            int p = ch * s * s + y * s + x;
                            float expected = box.contains(y, x) ? orig[j * len + p] : orig[i * len + p];
                            assertEquals(expected, images[i * len + p], "image " + i + " ch " + ch + " y " + y
                                    + " x " + x + " box " + box);
                        }
                    }
                }
            }
        }
        assertTrue(nonEmpty > 150, "only " + nonEmpty + " of 200 CutMix boxes were non-empty");
    }

    @Test
    void cutmixBoxFollowsRandBbox() {
        // lam 0.75 on 32 pixels: cut int(32 * 0.5) = 16, the box spans centre -/+ 8 clipped to the image, so it is
        // 16 tall unless it touches an edge, and it touches the top edge exactly when the centre row is 0..8 (9 of 32).
        int s = 32, draws = 20_000, touchTop = 0;
        Random r = new Random(3);
        for (int k = 0; k < draws; k++) {
            Box b = Mixup.cutmixBox(s, 0.75, r);
            for (int[] side : new int[][] {{b.top(), b.height()}, {b.left(), b.width()}}) {
                int lo = side[0], len = side[1];
                assertTrue(len <= 16 && len >= 8, "side " + len + " of " + b);
                assertTrue(len == 16 || lo == 0 || lo + len == s, "clipped side of " + b + " touches no edge");
            }
            if (b.top() == 0) touchTop++;
        }
        assertEquals(9.0 / 32, touchTop / (double) draws, 0.015, "fraction of boxes at the top edge");
        // An odd cut loses a pixel as in timm: lam 0.5 gives cut int(10 * 0.7071) = 7, spans -/+ 3, so 6.
        int largest = 0;
        for (int k = 0; k < 1000; k++) {
            Box odd = Mixup.cutmixBox(10, 0.5, r);
            assertTrue(odd.height() <= 6 && odd.width() <= 6, odd.toString());
            largest = Math.max(largest, Math.max(odd.height(), odd.width()));
        }
        assertEquals(6, largest, "largest side of an unclipped box");
    }

    @Test
    void uncorrectedLambdaIsTheBetaDraw() {
        Mixup raw = new Mixup(0, 1.0, 0.5, 1.0, 0.0, false);
        int n = 2, c = 1, s = 8;
        int differing = 0;
        for (long seed = 0; seed < 50; seed++) {
            Mixup.Mixed m = raw.apply(new float[n * c * s * s], n, c, s, new int[] {0, 1}, 2, new Random(seed));
            // The same draws as Mixup's own sequence: the prob uniform, then the Beta draw.
            Random replay = new Random(seed);
            replay.nextDouble();
            assertEquals(Mixup.beta(1.0, replay), m.lambda(), 0.0);
            if (Math.abs(m.lambda() - (1.0 - (double) m.box().area() / (s * s))) > 1e-9) differing++;
        }
        assertTrue(differing > 25, "only " + differing + " of 50 raw lambdas differ from the box fraction");
    }

    @Test
    void targetsSumToOneAndSplitTheSmoothedMassByLambda() {
        Mixup m = Mixup.mae();
        int n = 8, c = 1, s = 6, classes = 10;
        double off = 0.1 / classes, on = 1 - 0.1 + off;
        int cutmix = 0, batches = 2000;
        for (long seed = 0; seed < batches; seed++) {
            Random data = new Random(5000 + seed);
            int[] labels = randomLabels(n, classes, data);
            Mixup.Mixed mixed = m.apply(randomImages(n, c, s, data), n, c, s, labels, classes, new Random(seed));
            double lam = mixed.lambda();
            assertTrue(lam >= 0 && lam <= 1, "lambda " + lam);
            if (mixed.mode() == Mixup.Mode.CUTMIX) cutmix++;
            float[] t = mixed.targets();
            assertEquals(n * classes, t.length);
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int k = 0; k < classes; k++) sum += t[i * classes + k];
                assertEquals(1.0, sum, 1e-6, "row " + i + " of batch " + seed);
                int own = labels[i], partner = labels[n - 1 - i];
                for (int k = 0; k < classes; k++) {
                    double expected;
                    if (k == own && k == partner) expected = on;
                    else if (k == own) expected = lam * on + (1 - lam) * off;
                    else if (k == partner) expected = lam * off + (1 - lam) * on;
                    else expected = off;
                    assertEquals(expected, t[i * classes + k], 1e-6, "row " + i + " class " + k + " lam " + lam);
                }
                if (own != partner) {
                    // The own class's share above the smoothing floor is lambda of the 1 - smoothing mass.
                    assertEquals(lam, (t[i * classes + own] - off) / (1 - 0.1), 1e-5);
                }
            }
        }
        assertEquals(0.5, cutmix / (double) batches, 0.04, "fraction of CutMix batches at switch prob 0.5");
    }

    @Test
    void probabilityLeavesSomeBatchesUnmixed() {
        Mixup m = new Mixup(0.8, 1.0, 0.5, 0.3, 0.1, true);
        int unmixed = 0, batches = 4000;
        Random r = new Random(6);
        for (int b = 0; b < batches; b++) {
            float[] images = new float[2 * 4];
            for (int i = 0; i < 4; i++) images[i] = 1;
            Mixup.Mixed mixed = m.apply(images, 2, 1, 2, new int[] {0, 1}, 2, r);
            if (mixed.mode() == Mixup.Mode.NONE) {
                unmixed++;
                assertEquals(1.0, mixed.lambda());
                assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, images);
            }
        }
        assertEquals(0.7, unmixed / (double) batches, 0.03, "fraction of unmixed batches at prob 0.3");
    }

    @Test
    void offGivesTheSmoothedOneHotAndDrawsNothing() {
        Mixup off = Mixup.off(0.1);
        Random data = new Random(7);
        float[] images = randomImages(4, 1, 3, data);
        float[] orig = images.clone();
        int[] labels = {3, 0, 9, 3};
        Random rng = new Random(8);
        Mixup.Mixed mixed = off.apply(images, 4, 1, 3, labels, 10, rng);
        assertEquals(new Random(8).nextLong(), rng.nextLong(), "a disabled Mixup drew random numbers");
        assertArrayEquals(orig, images);
        assertEquals(Mixup.Mode.NONE, mixed.mode());
        assertEquals(1.0, mixed.lambda());
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 10; k++) {
                assertEquals(k == labels[i] ? 0.91f : 0.01f, mixed.targets()[i * 10 + k], 1e-7f, "row " + i + " class " + k);
            }
        }
        Mixup.Mixed hard = Mixup.off(0).apply(images, 4, 1, 3, labels, 10, rng);
        assertEquals(1f, hard.targets()[3]);
        assertEquals(0f, hard.targets()[0]);
    }

    @Test
    void equalSeedsGiveEqualOutputs() {
        Mixup m = Mixup.mae();
        for (long seed = 0; seed < 10; seed++) {
            Random data = new Random(9);
            float[] a = randomImages(6, 3, 8, data);
            float[] b = a.clone();
            int[] labels = randomLabels(6, 10, data);
            Mixup.Mixed ma = m.apply(a, 6, 3, 8, labels, 10, new Random(seed));
            Mixup.Mixed mb = m.apply(b, 6, 3, 8, labels, 10, new Random(seed));
            assertArrayEquals(a, b);
            assertArrayEquals(ma.targets(), mb.targets());
            assertEquals(ma.lambda(), mb.lambda());
            assertEquals(ma.box(), mb.box());
        }
    }

    @Test
    void badArgumentsGiveClearErrors() {
        Mixup m = Mixup.mae();
        Random r = new Random(0);
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> m.apply(new float[3 * 4], 3, 1, 2, new int[3], 10, r));
        assertTrue(odd.getMessage().contains("even") && odd.getMessage().contains("n = 3"), odd.getMessage());
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> m.apply(new float[7], 2, 1, 2, new int[2], 10, r));
        assertTrue(len.getMessage().contains("7") && len.getMessage().contains("8"), len.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> m.apply(new float[8], 2, 1, 2, new int[3], 10, r));
        assertTrue(labels.getMessage().contains("labels"), labels.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> m.apply(new float[8], 2, 1, 2, new int[] {0, 10}, 10, r));
        assertTrue(range.getMessage().contains("labels[1] = 10"), range.getMessage());
        IllegalArgumentException targets = assertThrows(IllegalArgumentException.class,
                () -> m.apply(new float[8], 2, 1, 2, new int[2], 10, new float[19], r));
        assertTrue(targets.getMessage().contains("targets") && targets.getMessage().contains("20"), targets.getMessage());
        IllegalArgumentException alpha = assertThrows(IllegalArgumentException.class,
                () -> new Mixup(-0.1, 1, 0.5, 1, 0.1, true));
        assertTrue(alpha.getMessage().contains("mixupAlpha") && alpha.getMessage().contains("-0.1"), alpha.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Mixup(0.8, Double.NaN, 0.5, 1, 0.1, true));
        IllegalArgumentException prob = assertThrows(IllegalArgumentException.class,
                () -> new Mixup(0.8, 1, 0.5, 1.5, 0.1, true));
        assertTrue(prob.getMessage().contains("prob") && prob.getMessage().contains("1.5"), prob.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Mixup(0.8, 1, -0.5, 1, 0.1, true));
        assertThrows(IllegalArgumentException.class, () -> new Mixup(0.8, 1, 0.5, 1, 1.0, true));
        for (IllegalArgumentException e : new IllegalArgumentException[] {odd, len, labels, range, targets, alpha, prob}) {
            assertTrue(!e.getMessage().contains("\n"), "multi-line message: " + e.getMessage());
        }
    }
}
