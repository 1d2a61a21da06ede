package org.mae4j.data;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomErasingTest {

    /** Values in [10, 11): an N(0, 1) fill value can never equal one of them by chance in these tests. */
    private static float[] image(int len, Random r) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = 10 + r.nextFloat();
        return a;
    }

    /**
     * Whether some area fraction in [minArea, maxArea] and aspect h/w in [minAspect, maxAspect] round to this box:
     * round(sqrt(A a)) = bh and round(sqrt(A / a)) = bw need A in [(bh - .5)(bw - .5), (bh + .5)(bw + .5)] and
     * a in [(bh - .5)/(bw + .5), (bh + .5)/(bw - .5)].
     */
    private static boolean reachable(Box b, int h, int w, RandomErasing re) {
        double bh = b.height(), bw = b.width(), area = (double) h * w;
        double aLo = (bh - 0.5) * (bw - 0.5) / area, aHi = (bh + 0.5) * (bw + 0.5) / area;
        double rLo = (bh - 0.5) / (bw + 0.5), rHi = (bh + 0.5) / (bw - 0.5);
        return aHi >= re.minArea() && aLo <= re.maxArea() && rHi >= re.minAspect() && rLo <= re.maxAspect();
    }

    @Test
    void maePresetMatchesTheReferenceDefaults() {
        RandomErasing re = RandomErasing.mae();
        assertEquals(0.25, re.probability());
        assertEquals(0.02, re.minArea());
        assertEquals(1.0 / 3.0, re.maxArea());
        assertEquals(0.3, re.minAspect());
        assertEquals(1 / 0.3, re.maxAspect());
        assertEquals(RandomErasing.Mode.PIXEL, re.mode());
        assertEquals(1, re.count());
        assertTrue(re.enabled());
        assertFalse(RandomErasing.off().enabled());
        String s = re.toString();
        assertTrue(s.contains("prob=0.25") && s.contains("mode=pixel") && s.contains("count=1")
                && s.contains("0.02"), s);
    }

    @Test
    void onlyOneBoxWithinTheConfiguredRangesChangesToNormalValues() {
        RandomErasing always = RandomErasing.of(1.0);
        int c = 3, h = 24, w = 20, plane = h * w;
        double sum = 0, sumSq = 0;
        long erasedValues = 0;
        double minFrac = 1, maxFrac = 0;
        for (long seed = 0; seed < 500; seed++) {
            float[] img = image(5 + c * plane + 5, new Random(seed + 1000));
            float[] orig = img.clone();
            List<Box> boxes = always.apply(img, 5, c, h, w, new Random(seed));
            assertEquals(1, boxes.size(), "seed " + seed);
            Box b = boxes.get(0);
            assertTrue(b.height() < h && b.width() < w && b.top() + b.height() <= h && b.left() + b.width() <= w,
                    b.toString());
            assertTrue(reachable(b, h, w, always), "box " + b + " cannot come from the configured area and aspect");
            minFrac = Math.min(minFrac, b.area() / (double) plane);
            maxFrac = Math.max(maxFrac, b.area() / (double) plane);
            for (int i = 0; i < 5; i++) {
                assertEquals(orig[i], img[i], "guard before the image");
                assertEquals(orig[img.length - 1 - i], img[img.length - 1 - i], "guard after the image");
            }
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int p = 5 + ch * plane + y * w + x;
                        if (b.contains(y, x)) {
                            assertNotEquals(orig[p], img[p], "pixel inside " + b + " not erased");
                            sum += img[p];
                            sumSq += (double) img[p] * img[p];
                            erasedValues++;
                        } else {
                            assertEquals(orig[p], img[p], "pixel outside " + b + " changed: ch " + ch + " y " + y + " x " + x);
                        }
                    }
                }
            }
        }
        double mean = sum / erasedValues, var = sumSq / erasedValues - mean * mean;
        assertEquals(0, mean, 0.02, "mean of the erased values");
        assertEquals(1, var, 0.03, "variance of the erased values");
        // Areas spread over the configured [0.02, 1/3].
        assertTrue(minFrac < 0.05 && maxFrac > 0.25, "area fractions only in [" + minFrac + ", " + maxFrac + "]");
    }

    @Test
    void imagesAreErasedWithTheConfiguredProbability() {
        RandomErasing re = RandomErasing.mae();
        Random rng = new Random(11);
        int images = 8000, erased = 0;
        for (int i = 0; i < images; i++) {
            float[] img = new float[16 * 16];
            if (!re.apply(img, 0, 1, 16, rng).isEmpty()) erased++;
        }
        // Binomial standard deviation sqrt(0.25 * 0.75 / 8000) = 0.0048.
        assertEquals(0.25, erased / (double) images, 0.02, "fraction of erased images");
    }

    @Test
    void offDrawsNothingAndChangesNothing() {
        Random rng = new Random(12);
        float[] img = image(3 * 8 * 8, new Random(1));
        float[] orig = img.clone();
        assertTrue(RandomErasing.off().apply(img, 0, 3, 8, rng).isEmpty());
        assertArrayEquals(orig, img);
        assertEquals(new Random(12).nextLong(), rng.nextLong(), "a disabled RandomErasing drew random numbers");
    }

    @Test
    void constAndRandModesFillAsTimm() {
        int c = 3, s = 16, plane = s * s;
        RandomErasing constant = new RandomErasing(1, 0.02, 1.0 / 3, 0.3, 1 / 0.3, RandomErasing.Mode.CONST, 1);
        RandomErasing perChannel = new RandomErasing(1, 0.02, 1.0 / 3, 0.3, 1 / 0.3, RandomErasing.Mode.RAND, 1);
        for (long seed = 0; seed < 20; seed++) {
            float[] a = image(c * plane, new Random(seed));
            Box b = constant.apply(a, 0, c, s, new Random(seed)).get(0);
            float[] r = image(c * plane, new Random(seed));
            Box br = perChannel.apply(r, 0, c, s, new Random(seed)).get(0);
            assertEquals(b, br, "the box does not depend on the mode");
            for (int ch = 0; ch < c; ch++) {
                float first = r[ch * plane + b.top() * s + b.left()];
                assertTrue(first < 9, "channel " + ch + " not erased");
                for (int y = b.top(); y < b.top() + b.height(); y++) {
                    for (int x = b.left(); x < b.left() + b.width(); x++) {
                        assertEquals(0f, a[ch * plane + y * s + x]);
                        assertEquals(first, r[ch * plane + y * s + x], "rand mode: one value per channel");
                    }
                }
            }
        }
    }

    @Test
    void severalBoxesShareTheAreaBudget() {
        RandomErasing three = new RandomErasing(1, 0.3, 0.3, 1, 1, RandomErasing.Mode.CONST, 3);
        int s = 30, seen = 0;
        boolean[] counts = new boolean[4];
        for (long seed = 0; seed < 300; seed++) {
            float[] img = image(s * s, new Random(seed));
            List<Box> boxes = three.apply(img, 0, 1, s, new Random(seed));
            assertTrue(boxes.size() >= 1 && boxes.size() <= 3, boxes.toString());
            counts[boxes.size()] = true;
            for (Box b : boxes) {
                // Target area 0.3 * 900 / k, square: side round(sqrt(270 / k)).
                int side = (int) Math.rint(Math.sqrt(270.0 / boxes.size()));
                assertEquals(side, b.height(), "height with " + boxes.size() + " boxes");
                assertEquals(side, b.width(), "width with " + boxes.size() + " boxes");
            }
            seen++;
        }
        assertTrue(counts[1] && counts[2] && counts[3], "box counts 1..3 not all seen in " + seen + " images");
    }

    @Test
    void equalSeedsGiveEqualOutputs() {
        RandomErasing re = RandomErasing.of(0.7);
        for (long seed = 0; seed < 20; seed++) {
            float[] a = image(2 * 12 * 12, new Random(3));
            float[] b = a.clone();
            assertEquals(re.apply(a, 0, 2, 12, new Random(seed)), re.apply(b, 0, 2, 12, new Random(seed)));
            assertArrayEquals(a, b);
        }
    }

    @Test
    void badArgumentsGiveClearErrors() {
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> RandomErasing.of(1.5));
        assertTrue(p.getMessage().contains("probability") && p.getMessage().contains("1.5"), p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RandomErasing.of(-0.1));
        IllegalArgumentException area = assertThrows(IllegalArgumentException.class,
                () -> new RandomErasing(0.5, 0.4, 0.3, 0.3, 3, RandomErasing.Mode.PIXEL, 1));
        assertTrue(area.getMessage().contains("minArea 0.4"), area.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new RandomErasing(0.5, 0, 0.3, 0.3, 3, RandomErasing.Mode.PIXEL, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new RandomErasing(0.5, 0.02, 0.3, 3, 0.3, RandomErasing.Mode.PIXEL, 1));
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> new RandomErasing(0.5, 0.02, 0.3, 0.3, 3, RandomErasing.Mode.PIXEL, 0));
        assertTrue(count.getMessage().contains("count"), count.getMessage());
        IllegalArgumentException shortArray = assertThrows(IllegalArgumentException.class,
                () -> RandomErasing.mae().apply(new float[10], 0, 1, 4, new Random(0)));
        assertTrue(shortArray.getMessage().contains("10") && shortArray.getMessage().contains("16"),
                shortArray.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RandomErasing.mae().apply(new float[16], 1, 1, 4, new Random(0)));
    }
}
