package org.mae4j.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentTest {

    private static float[] randomImage(int c, int size, long seed) {
        Random r = new Random(seed);
        float[] a = new float[c * size * size];
        for (int i = 0; i < a.length; i++) a[i] = r.nextFloat();
        return a;
    }

    /** Channel 0 holds the column index x, channel 1 the row index y. */
    private static float[] ramps(int size) {
        float[] a = new float[2 * size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                a[y * size + x] = x;
                a[size * size + y * size + x] = y;
            }
        }
        return a;
    }

    private static Augment plain(int channels, double scaleMin, double scaleMax, double ratioMin, double ratioMax,
                                 boolean hflip) {
        float[] zero = new float[channels], one = new float[channels];
        Arrays.fill(one, 1f);
        return new Augment(scaleMin, scaleMax, ratioMin, ratioMax, hflip, zero, one);
    }

    @Test
    void presets() {
        Augment g = Augment.mae(1);
        assertEquals(0.2, g.scaleMin());
        assertEquals(1.0, g.scaleMax());
        assertEquals(0.75, g.ratioMin());
        assertEquals(4.0 / 3.0, g.ratioMax());
        assertTrue(g.hflip());
        assertArrayEquals(new float[] {0.2860f}, g.mean());
        assertArrayEquals(new float[] {0.3530f}, g.std());
        Augment c = Augment.mae(3);
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, c.mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, c.std());
        Augment n = Augment.none(3);
        assertFalse(n.hflip());
        assertFalse(n.randomCrop());
        assertTrue(c.randomCrop());
        assertArrayEquals(new float[] {0, 0, 0}, n.mean());
        assertArrayEquals(new float[] {1, 1, 1}, n.std());
        assertThrows(IllegalArgumentException.class, () -> Augment.mae(2));
    }

    @Test
    void validation() {
        float[] m = {0}, s = {1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Augment(0.5, 0.4, 1, 1, false, m, s));
        assertTrue(e.getMessage().contains("scaleMin 0.5") && e.getMessage().contains("scaleMax 0.4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Augment(0, 1, 1, 1, false, m, s));
        assertThrows(IllegalArgumentException.class, () -> new Augment(0.2, 1.5, 1, 1, false, m, s));
        assertThrows(IllegalArgumentException.class, () -> new Augment(0.2, 1, 2, 1, false, m, s));
        assertThrows(IllegalArgumentException.class, () -> new Augment(0.2, 1, 0, 1, false, m, s));
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> new Augment(0.2, 1, 1, 1, false, new float[] {0, 0}, s));
        assertTrue(len.getMessage().contains("2") && len.getMessage().contains("1"), len.getMessage());
        IllegalArgumentException std = assertThrows(IllegalArgumentException.class,
                () -> new Augment(0.2, 1, 1, 1, false, m, new float[] {0}));
        assertTrue(std.getMessage().contains("std[0]"), std.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Augment(0.2, 1, 1, 1, false, new float[0], new float[0]));
    }

    @Test
    void recordIsImmutableAndComparesByValue() {
        float[] mean = {0.5f};
        Augment a = new Augment(0.2, 1, 1, 1, true, mean, new float[] {2f});
        mean[0] = 9;
        assertArrayEquals(new float[] {0.5f}, a.mean());
        a.mean()[0] = 7;
        assertArrayEquals(new float[] {0.5f}, a.mean());
        assertEquals(a, new Augment(0.2, 1, 1, 1, true, new float[] {0.5f}, new float[] {2f}));
        assertEquals(a.hashCode(), new Augment(0.2, 1, 1, 1, true, new float[] {0.5f}, new float[] {2f}).hashCode());
        assertNotEquals(a, a.withNormalization(new float[] {0.4f}, new float[] {2f}));
    }

    @Test
    void writesExactlyOneImageAtTheOffset() {
        int c = 3, size = 8, n = c * size * size;
        float[] src = randomImage(c, size, 1);
        float[] dst = new float[n + 10];
        Arrays.fill(dst, Float.NaN);
        Augment.mae(3).apply(src, 0, c, size, dst, 4, new Random(5));
        for (int i = 0; i < 4; i++) assertTrue(Float.isNaN(dst[i]), "before offset");
        for (int i = 4; i < 4 + n; i++) assertTrue(Float.isFinite(dst[i]), "inside at " + i);
        for (int i = 4 + n; i < dst.length; i++) assertTrue(Float.isNaN(dst[i]), "after image");
        assertThrows(IllegalArgumentException.class,
                () -> Augment.mae(3).apply(src, 0, c, size, new float[n - 1], 0, new Random(5)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Augment.mae(1).apply(src, 0, c, size, dst, 0, new Random(5)));
        assertTrue(e.getMessage().contains("3 channels"), e.getMessage());
    }

    @Test
    void noneIsTheIdentity() {
        float[] src = randomImage(3, 7, 2);
        float[] dst = new float[src.length];
        Random rng = new Random(3);
        Augment.none(3).apply(src, 0, 3, 7, dst, 0, rng);
        assertArrayEquals(src, dst);
        // It also draws no random numbers, so it leaves the caller's generator where it was.
        assertEquals(new Random(3).nextLong(), rng.nextLong());
    }

    @Test
    void fullImageCropWithoutFlipIsTheIdentityEvenThroughTheCropPath() {
        // Scale 1 and ratio exactly 1 always pick the whole square, but randomCrop() is true for scale [0.999, 1].
        Augment a = plain(3, 0.9999, 1, 1, 1, false);
        assertTrue(a.randomCrop());
        float[] src = randomImage(3, 9, 4);
        float[] dst = new float[src.length];
        a.apply(src, 0, 3, 9, dst, 0, new Random(11));
        assertArrayEquals(src, dst);
    }

    @Test
    void flipMirrorsEachRowExactlyAboutHalfTheTime() {
        int c = 2, size = 5;
        float[] src = randomImage(c, size, 6);
        float[] mirrored = new float[src.length];
        for (int row = 0; row < c * size; row++) {
            for (int x = 0; x < size; x++) mirrored[row * size + x] = src[row * size + size - 1 - x];
        }
        Augment a = plain(c, 1, 1, 1, 1, true);
        int flips = 0;
        // Seeds drawn from a generator: Random(0), Random(1), ... all start with nextDouble() near 0.73.
        Random seeds = new Random(123);
        for (int t = 0; t < 200; t++) {
            long seed = seeds.nextLong();
            float[] dst = new float[src.length];
            a.apply(src, 0, c, size, dst, 0, new Random(seed));
            if (Arrays.equals(dst, mirrored)) flips++;
            else assertArrayEquals(src, dst, "seed " + seed + ": neither the image nor its mirror");
        }
        assertTrue(flips > 70 && flips < 130, "flipped " + flips + " of 200");
    }

    @Test
    void normalizationValues() {
        float[] src = {0f, 0.5f, 1f, 0.25f, /* channel 1 */ 0f, 0.5f, 1f, 0.25f};
        Augment a = plain(2, 1, 1, 1, 1, false).withNormalization(new float[] {0.5f, 0.25f}, new float[] {0.25f, 2f});
        float[] dst = new float[8];
        a.apply(src, 0, 2, 2, dst, 0, new Random(0));
        assertArrayEquals(new float[] {-2f, 0f, 2f, -1f, -0.125f, 0.125f, 0.375f, 0f}, dst, 1e-7f);
        float[] only = new float[8];
        a.normalizeOnly(src, 0, 2, 2, only, 0);
        assertArrayEquals(dst, only);
        float[] fm = new float[1];
        Augment.mae(1).normalizeOnly(new float[] {0.2860f + 0.3530f}, 0, 1, 1, fm, 0);
        assertEquals(1f, fm[0], 1e-6f);
    }

    @Test
    void sameSeedSameOutputDifferentSeedDifferentOutput() {
        float[] src = randomImage(3, 16, 8);
        float[] a = new float[src.length], b = new float[src.length], c = new float[src.length];
        Augment aug = Augment.mae(3);
        aug.apply(src, 0, 3, 16, a, 0, new Random(42));
        aug.apply(src, 0, 3, 16, b, 0, new Random(42));
        aug.apply(src, 0, 3, 16, c, 0, new Random(43));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void inPlaceGivesTheSameAsSeparateBuffers() {
        float[] src = randomImage(3, 16, 9);
        float[] out = new float[src.length];
        Augment.mae(3).apply(src, 0, 3, 16, out, 0, new Random(1));
        float[] inPlace = src.clone();
        Augment.mae(3).apply(inPlace, 0, 3, 16, inPlace, 0, new Random(1));
        assertArrayEquals(out, inPlace);
    }

    @Test
    void cropBoxesFollowRandomResizedCrop() {
        Augment a = Augment.mae(1);
        Random rng = new Random(7);
        int size = 224;
        double minArea = Double.MAX_VALUE, maxArea = 0;
        for (int t = 0; t < 2000; t++) {
            int[] box = a.cropBox(size, size, rng);
            int top = box[0], left = box[1], h = box[2], w = box[3];
            assertTrue(h >= 1 && w >= 1 && top >= 0 && left >= 0 && top + h <= size && left + w <= size,
                    Arrays.toString(box));
            double area = (double) h * w / (size * size);
            double ratio = (double) w / h;
            // Rounding w and h to whole pixels moves area and ratio a little past the drawn values.
            assertTrue(area > 0.2 * 0.97 && area <= 1.0, "area " + area);
            assertTrue(ratio > 0.75 * 0.97 && ratio < 4.0 / 3.0 * 1.03, "ratio " + ratio);
            minArea = Math.min(minArea, area);
            maxArea = Math.max(maxArea, area);
        }
        assertTrue(minArea < 0.22 && maxArea > 0.9, "areas span [" + minArea + ", " + maxArea + "]");
    }

    @Test
    void cropIsResampledFromTheChosenWindow() {
        // On ramps (channel 0 = x, channel 1 = y) a bilinear resample of the window [left, left+w) is
        // clamp(left + (o + 0.5) * w / size - 0.5, 0, size - 1) along x, and the same along y.
        int size = 8;
        Augment a = plain(2, 0.25, 0.25, 1, 1, false); // always a 4x4 window, upscaled 2x
        Random seeds = new Random(99);
        java.util.Set<String> corners = new java.util.HashSet<>();
        for (int t = 0; t < 20; t++) {
            long seed = seeds.nextLong();
            int[] box = a.cropBox(size, size, new Random(seed));
            corners.add(box[0] + "," + box[1]);
            assertEquals(4, box[2]);
            assertEquals(4, box[3]);
            float[] dst = new float[2 * size * size];
            a.apply(ramps(size), 0, 2, size, dst, 0, new Random(seed));
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    double ex = Math.min(Math.max(box[1] + (x + 0.5) * 0.5 - 0.5, 0), size - 1);
                    double ey = Math.min(Math.max(box[0] + (y + 0.5) * 0.5 - 0.5, 0), size - 1);
                    assertEquals(ex, dst[y * size + x], 1e-5, "seed " + seed + " x at " + x + "," + y);
                    assertEquals(ey, dst[size * size + y * size + x], 1e-5, "seed " + seed + " y at " + x + "," + y);
                }
            }
        }
        assertTrue(corners.size() > 5, "windows at " + corners);
    }

    @Test
    void impossibleRatioFallsBackToTheCentredClampedCrop() {
        // Ratio >= 2 never fits a full-area crop into a square: all 10 attempts fail, and the fallback keeps the
        // full width with h = round(w / 2), centred vertically.
        int size = 8;
        Augment a = plain(2, 1, 1, 2, 3, false);
        assertArrayEquals(new int[] {2, 0, 4, 8}, a.cropBox(size, size, new Random(1)));
        float[] dst = new float[2 * size * size];
        a.apply(ramps(size), 0, 2, size, dst, 0, new Random(1));
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                assertEquals(x, dst[y * size + x], 1e-6, "x unchanged");
                assertEquals(2 + (y + 0.5) * 0.5 - 0.5, dst[size * size + y * size + x], 1e-6, "rows 2..5 stretched");
            }
        }
        // And the other side: ratio <= 1/2 keeps the full height.
        assertArrayEquals(new int[] {0, 2, 8, 4}, plain(1, 1, 1, 0.25, 0.5, false).cropBox(size, size, new Random(1)));
    }
}
