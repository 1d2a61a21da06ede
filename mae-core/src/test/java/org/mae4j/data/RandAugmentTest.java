package org.mae4j.data;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandAugmentTest {

    private static final RandAugment.Op[] INC = RandAugment.INCREASING_OPS.toArray(new RandAugment.Op[0]);

    /** Random multiples of 1/255 in [0, 1], like an 8-bit image converted by ToTensor. */
    private static float[] image8(int len, Random r) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = r.nextInt(256) / 255f;
        return a;
    }

    private static void applyOp(RandAugment.Op op, double arg, float[] img, int c, int h, int w, float[] fill) {
        op.apply(img, 0, c, h, w, arg, fill, new float[c * h * w]);
    }

    private static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        int worst = -1;
        float worstDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worstDiff)) {
                worstDiff = d;
                worst = i;
            }
        }
        if (worstDiff > tol) {
            throw new AssertionError(what + ": worst element " + worst + " expected " + expected[worst] + " actual "
                    + actual[worst] + " (|diff| " + worstDiff + " > " + tol + ")");
        }
    }

    @Test
    void maePolicyIsTimmsIncreasingSetAtMagnitudeNine() {
        RandAugment ra = RandAugment.mae(new float[] {0.2860f});
        assertEquals(2, ra.numOps());
        assertEquals(9.0, ra.magnitude());
        assertEquals(0.5, ra.magnitudeStd());
        assertEquals(0.5, ra.opProb());
        assertEquals(RandAugment.INCREASING_OPS, ra.ops());
        assertEquals(15, ra.ops().size());
        // timm's img_mean: round(255 * 0.2860) = round(72.93) = 73.
        assertArrayEquals(new float[] {73 / 255f}, ra.fill());
        RandAugment rgb = RandAugment.mae(new float[] {0.485f, 0.456f, 0.406f});
        // round(123.675) = 124, round(116.28) = 116, round(103.53) = 104.
        assertArrayEquals(new float[] {124 / 255f, 116 / 255f, 104 / 255f}, rgb.fill(), 1e-7f);
        assertTrue(ra.enabled());
        assertEquals("rand-m9-n2-mstd0.5-inc1", ra.policy());
        assertTrue(ra.toString().contains("rand-m9-n2-mstd0.5-inc1") && ra.toString().contains("0.2863"), ra.toString());
        assertEquals(ra, RandAugment.parse("rand-m9-n2-mstd0.5-inc1", new float[] {0.2860f}));
    }

    @Test
    void parseReadsTimmPolicyStrings() {
        float[] mean = {0.5f};
        RandAugment a = RandAugment.parse("rand-m7-n3", mean);
        assertEquals(3, a.numOps());
        assertEquals(7.0, a.magnitude());
        assertEquals(0.0, a.magnitudeStd());
        assertEquals(RandAugment.STANDARD_OPS, a.ops());
        assertEquals(Double.POSITIVE_INFINITY, RandAugment.parse("rand-mstd101", mean).magnitudeStd());
        assertEquals(10.0, RandAugment.parse("rand", mean).magnitude());
        assertEquals(RandAugment.STANDARD_OPS, RandAugment.parse("rand-m9-inc0", mean).ops());
        assertFalse(RandAugment.parse("none", mean).enabled());
        assertFalse(RandAugment.parse("", mean).enabled());
        assertEquals("none", RandAugment.parse("none", mean).policy());
        for (String bad : new String[] {"auto-m9", "rand-x9", "rand-m", "rand-w0", "rand-m9-mmax12", "rand-m11"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RandAugment.parse(bad, mean),
                    bad);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> RandAugment.parse("rand-m9-w0", mean));
        assertTrue(unknown.getMessage().contains("w0"), unknown.getMessage());
    }

    @Test
    void magnitudeToArgumentFollowsTimmsRanges() {
        Set<RandAugment.Op> signed = EnumSet.of(RandAugment.Op.ROTATE, RandAugment.Op.SHEAR_X, RandAugment.Op.SHEAR_Y,
                RandAugment.Op.TRANSLATE_X_REL, RandAugment.Op.TRANSLATE_Y_REL, RandAugment.Op.COLOR_INCREASING,
                RandAugment.Op.CONTRAST_INCREASING, RandAugment.Op.BRIGHTNESS_INCREASING,
                RandAugment.Op.SHARPNESS_INCREASING);
        for (RandAugment.Op op : RandAugment.Op.values()) assertEquals(signed.contains(op), op.signed(), op.name());
        for (int step = 0; step <= 1000; step++) {
            double level = step / 100.0;
            for (boolean neg : new boolean[] {false, true}) {
                double s = neg ? -1 : 1;
                assertTrue(Math.abs(RandAugment.Op.ROTATE.argument(level, neg)) <= 30);
                assertTrue(Math.abs(RandAugment.Op.SHEAR_X.argument(level, neg)) <= 0.3);
                assertTrue(Math.abs(RandAugment.Op.SHEAR_Y.argument(level, neg)) <= 0.3);
                assertTrue(Math.abs(RandAugment.Op.TRANSLATE_X_REL.argument(level, neg)) <= 0.45);
                assertTrue(Math.abs(RandAugment.Op.TRANSLATE_Y_REL.argument(level, neg)) <= 0.45);
                assertTrue(s * RandAugment.Op.ROTATE.argument(level, neg) >= 0, "sign of rotate");
                double bits = RandAugment.Op.POSTERIZE_INCREASING.argument(level, neg);
                assertTrue(bits >= 0 && bits <= 4 && bits == Math.rint(bits), "posterize bits " + bits);
                double thr = RandAugment.Op.SOLARIZE_INCREASING.argument(level, neg);
                assertTrue(thr >= 0 && thr <= 256 && thr == Math.rint(thr), "solarize threshold " + thr);
                double add = RandAugment.Op.SOLARIZE_ADD.argument(level, neg);
                assertTrue(add >= 0 && add <= 110 && add == Math.rint(add), "solarize add " + add);
                for (RandAugment.Op e : new RandAugment.Op[] {RandAugment.Op.COLOR_INCREASING,
                        RandAugment.Op.CONTRAST_INCREASING, RandAugment.Op.BRIGHTNESS_INCREASING,
                        RandAugment.Op.SHARPNESS_INCREASING, RandAugment.Op.COLOR, RandAugment.Op.SHARPNESS}) {
                    double f = e.argument(level, neg);
                    assertTrue(f >= 0.1 - 1e-12 && f <= 1.9 + 1e-12, e + " factor " + f);
                }
            }
        }
        // Magnitude 9 by hand from timm's formulas: 27 degrees, shear 0.27, translate 0.405, 4 - int(3.6) = 1 bit,
        // threshold 256 - int(230.4) = 26, add int(99.0) = 99, enhance 1 -/+ 0.81.
        assertEquals(27.0, RandAugment.Op.ROTATE.argument(9, false), 1e-12);
        assertEquals(-27.0, RandAugment.Op.ROTATE.argument(9, true), 1e-12);
        assertEquals(0.27, RandAugment.Op.SHEAR_X.argument(9, false), 1e-12);
        assertEquals(0.405, RandAugment.Op.TRANSLATE_Y_REL.argument(9, false), 1e-12);
        assertEquals(1.0, RandAugment.Op.POSTERIZE_INCREASING.argument(9, false));
        assertEquals(26.0, RandAugment.Op.SOLARIZE_INCREASING.argument(9, false));
        assertEquals(99.0, RandAugment.Op.SOLARIZE_ADD.argument(9, false));
        assertEquals(1.81, RandAugment.Op.CONTRAST_INCREASING.argument(9, false), 1e-12);
        assertEquals(0.19, RandAugment.Op.CONTRAST_INCREASING.argument(9, true), 1e-12);
        // The ends of the scale.
        assertEquals(30.0, RandAugment.Op.ROTATE.argument(10, false), 1e-12);
        assertEquals(0.0, RandAugment.Op.POSTERIZE_INCREASING.argument(10, false));
        assertEquals(4.0, RandAugment.Op.POSTERIZE_INCREASING.argument(0, false));
        assertEquals(256.0, RandAugment.Op.SOLARIZE_INCREASING.argument(0, false));
        assertEquals(0.1, RandAugment.Op.BRIGHTNESS_INCREASING.argument(10, true), 1e-12);
        assertEquals(1.0, RandAugment.Op.SHARPNESS_INCREASING.argument(0, true), 1e-12);
        // The standard (non-increasing) set: posterize int(level/10 * 4), solarize int(level/10 * 256).
        assertEquals(3.0, RandAugment.Op.POSTERIZE.argument(9, false));
        assertEquals(230.0, RandAugment.Op.SOLARIZE.argument(9, false));
        assertEquals(1.72, RandAugment.Op.COLOR.argument(9, false), 1e-12);
    }

    @Test
    void levelsAreNormalAroundTheMagnitudeAndClippedToTheScale() {
        RandAugment ra = RandAugment.mae(new float[] {0.5f});
        Random r = new Random(4);
        int draws = 100_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < draws; i++) {
            double l = ra.sampleLevel(r);
            assertTrue(l >= 0 && l <= 10, "level " + l);
            sum += l;
            sumSq += l * l;
        }
        double mean = sum / draws, sd = Math.sqrt(sumSq / draws - mean * mean);
        // N(9, 0.5) clipped at 10, 2 sd above: the mean moves down by 0.5 (phi(2) - 2 (1 - Phi(2))) = 0.004.
        assertEquals(9.0, mean, 0.02);
        assertEquals(0.5, sd, 0.03);
        RandAugment clipped = new RandAugment(2, 10, 1, 0.5, RandAugment.INCREASING_OPS, new float[] {0.5f});
        int atTen = 0;
        for (int i = 0; i < 10_000; i++) if (clipped.sampleLevel(r) == 10.0) atTen++;
        assertEquals(0.5, atTen / 10_000.0, 0.03, "half of N(10, 1) is clipped to 10");
        RandAugment uniform = RandAugment.parse("rand-m8-mstd101", new float[] {0.5f});
        double usum = 0;
        for (int i = 0; i < draws; i++) {
            double l = uniform.sampleLevel(r);
            assertTrue(l >= 0 && l <= 8, "uniform level " + l);
            usum += l;
        }
        assertEquals(4.0, usum / draws, 0.05, "mean of uniform [0, 8]");
        assertEquals(7.0, new RandAugment(2, 7, 0, 0.5, RandAugment.STANDARD_OPS, new float[] {0f}).sampleLevel(r));
    }

    @Test
    void opsThatShouldBeTheIdentityAtMagnitudeZeroAre() {
        RandAugment.Op[] identityAtZero = {RandAugment.Op.ROTATE, RandAugment.Op.SHEAR_X, RandAugment.Op.SHEAR_Y,
                RandAugment.Op.TRANSLATE_X_REL, RandAugment.Op.TRANSLATE_Y_REL, RandAugment.Op.SOLARIZE_INCREASING,
                RandAugment.Op.SOLARIZE_ADD, RandAugment.Op.COLOR_INCREASING, RandAugment.Op.CONTRAST_INCREASING,
                RandAugment.Op.BRIGHTNESS_INCREASING, RandAugment.Op.SHARPNESS_INCREASING};
        for (int c : new int[] {1, 3}) {
            float[] fill = new float[c];
            for (RandAugment.Op op : identityAtZero) {
                for (boolean neg : new boolean[] {false, true}) {
                    float[] img = image8(c * 9 * 11, new Random(5));
                    float[] orig = img.clone();
                    applyOp(op, op.argument(0, neg), img, c, 9, 11, fill);
                    assertClose(orig, img, 1e-6f, op + " at magnitude 0, " + c + " channels");
                }
            }
        }
        // PosterizeIncreasing keeps 4 bits at magnitude 0 (timm's range [4, 0]), so it is not the identity there:
        // every level becomes a multiple of 16.
        float[] img = image8(64, new Random(6));
        applyOp(RandAugment.Op.POSTERIZE_INCREASING, RandAugment.Op.POSTERIZE_INCREASING.argument(0, false), img, 1, 8, 8,
                new float[1]);
        for (float v : img) assertEquals(0, Math.round(v * 255) % 16, "level " + v * 255);
    }

    @Test
    void pointOpsMatchPillowsDefinitions() {
        float[] fill = {0};
        Random r = new Random(7);
        float[] x = image8(100, r);

        float[] inv = x.clone();
        applyOp(RandAugment.Op.INVERT, 0, inv, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) assertEquals(1 - x[i], inv[i], 1e-7f);

        // Posterize to 2 bits keeps the top two bits of the 8-bit level: 0, 64, 128 or 192.
        float[] post = x.clone();
        applyOp(RandAugment.Op.POSTERIZE, 2, post, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) {
            int level = Math.round(x[i] * 255);
            assertEquals((level / 64) * 64 / 255f, post[i], 1e-7f, "level " + level);
        }
        float[] zeroBits = x.clone();
        applyOp(RandAugment.Op.POSTERIZE_INCREASING, 0, zeroBits, 1, 10, 10, fill);
        for (float v : zeroBits) assertEquals(0f, v, "0 bits is black");

        // Solarize at 26: levels 26 and above are inverted.
        float[] sol = x.clone();
        applyOp(RandAugment.Op.SOLARIZE_INCREASING, 26, sol, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) {
            int level = Math.round(x[i] * 255);
            assertEquals(level >= 26 ? 1 - x[i] : x[i], sol[i], 1e-7f, "level " + level);
        }

        // SolarizeAdd 99: levels below 128 gain 99 levels, capped at 255.
        float[] sadd = x.clone();
        applyOp(RandAugment.Op.SOLARIZE_ADD, 99, sadd, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) {
            int level = Math.round(x[i] * 255);
            float expected = level < 128 ? Math.min(255, level + 99) / 255f : x[i];
            assertEquals(expected, sadd[i], 1e-6f, "level " + level);
        }

        float[] bright = x.clone();
        applyOp(RandAugment.Op.BRIGHTNESS_INCREASING, 0.5, bright, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) assertEquals(x[i] * 0.5f, bright[i], 1e-7f);
        float[] brighter = x.clone();
        applyOp(RandAugment.Op.BRIGHTNESS_INCREASING, 1.9, brighter, 1, 10, 10, fill);
        for (int i = 0; i < x.length; i++) assertEquals(Math.min(1f, x[i] * 1.9f), brighter[i], 1e-6f);
    }

    @Test
    void contrastBlendsWithTheRoundedMeanGrey() {
        // Grey 2x2 image of levels 0, 51, 102, 255: mean 102, so factor 0 gives a flat 102/255, factor 0.5 halfway.
        float[] g = {0, 51 / 255f, 102 / 255f, 1};
        float[] flat = g.clone();
        applyOp(RandAugment.Op.CONTRAST_INCREASING, 0, flat, 1, 2, 2, new float[1]);
        for (float v : flat) assertEquals(102 / 255f, v, 1e-6f);
        float[] half = g.clone();
        applyOp(RandAugment.Op.CONTRAST_INCREASING, 0.5, half, 1, 2, 2, new float[1]);
        for (int i = 0; i < 4; i++) assertEquals((102 / 255f + g[i]) / 2, half[i], 1e-6f);
        // RGB: the grey level is the luma mean. One red pixel and three black: luma 0.299 * 255 / 4 = 19.06 -> 19.
        float[] rgb = new float[12];
        rgb[0] = 1;
        applyOp(RandAugment.Op.CONTRAST, 0, rgb, 3, 2, 2, new float[3]);
        for (float v : rgb) assertEquals(19 / 255f, v, 1e-6f);
    }

    @Test
    void colorIsTheIdentityOnGreyAndDesaturatesRgb() {
        float[] grey = image8(49, new Random(8));
        float[] orig = grey.clone();
        for (double f : new double[] {0.1, 0.5, 1.9}) {
            applyOp(RandAugment.Op.COLOR_INCREASING, f, grey, 1, 7, 7, new float[1]);
            assertArrayEquals(orig, grey, "Color on a grey image, factor " + f);
        }
        float[] rgb = image8(3 * 16, new Random(9));
        float[] o = rgb.clone();
        applyOp(RandAugment.Op.COLOR, 0, rgb, 3, 4, 4, new float[3]);
        for (int p = 0; p < 16; p++) {
            float luma = 0.299f * o[p] + 0.587f * o[16 + p] + 0.114f * o[32 + p];
            for (int ch = 0; ch < 3; ch++) assertEquals(luma, rgb[ch * 16 + p], 1e-6f, "pixel " + p + " ch " + ch);
        }
    }

    @Test
    void sharpnessBlendsWithPillowsSmoothKernelAndKeepsTheBorder() {
        int h = 6, w = 7;
        float[] x = image8(h * w, new Random(10));
        float[] out = x.clone();
        applyOp(RandAugment.Op.SHARPNESS, 0, out, 1, h, w, new float[1]);
        for (int y = 0; y < h; y++) {
            for (int xx = 0; xx < w; xx++) {
                float expected;
                if (y == 0 || xx == 0 || y == h - 1 || xx == w - 1) {
                    expected = x[y * w + xx];
                } else {
                    float sum = 4 * x[y * w + xx];
                    for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) sum += x[(y + dy) * w + xx + dx];
                    expected = sum / 13;
                }
                assertEquals(expected, out[y * w + xx], 1e-6f, "y " + y + " x " + xx);
            }
        }
    }

    @Test
    void autoContrastStretchesAndEqualizeSpreadsTheHistogram() {
        float[] x = {0.2f, 0.4f, 0.6f, 0.3f, 0.5f, 0.2f};
        applyOp(RandAugment.Op.AUTO_CONTRAST, 0, x, 1, 2, 3, new float[1]);
        assertArrayEquals(new float[] {0, 0.5f, 1, 0.25f, 0.75f, 0}, x, 1e-6f);
        float[] flat = {0.3f, 0.3f, 0.3f, 0.3f};
        applyOp(RandAugment.Op.AUTO_CONTRAST, 0, flat, 1, 2, 2, new float[1]);
        assertArrayEquals(new float[] {0.3f, 0.3f, 0.3f, 0.3f}, flat, "a flat image has no range to stretch");

        // 32x32 image holding levels 100..131, 32 pixels each. Pillow: step = (1024 - 32) // 255 = 3 and
        // lut[100 + k] = (3 // 2 + 32 k) // 3, so 100 -> 0, 101 -> 11, 102 -> 21, 131 -> 331 clipped to 255.
        float[] eq = new float[1024];
        for (int i = 0; i < 1024; i++) eq[i] = (100 + i % 32) / 255f;
        applyOp(RandAugment.Op.EQUALIZE, 0, eq, 1, 32, 32, new float[1]);
        assertEquals(0f, eq[0], 1e-7f);
        assertEquals(11 / 255f, eq[1], 1e-7f);
        assertEquals(21 / 255f, eq[2], 1e-7f);
        assertEquals(1f, eq[31], 1e-7f);
        // Every level appearing once (256 pixels): step 1 and lut[i] = i, the identity.
        float[] ramp = new float[256];
        for (int i = 0; i < 256; i++) ramp[i] = i / 255f;
        float[] rampOut = ramp.clone();
        applyOp(RandAugment.Op.EQUALIZE, 0, rampOut, 1, 16, 16, new float[1]);
        assertArrayEquals(ramp, rampOut, 1e-7f);
    }

    @Test
    void geometricOpsSampleLikePillowsAffineTransform() {
        int s = 8;
        float[] x = image8(s * s, new Random(11));
        float[] fill = {0.5f};

        // Translate by 0.25 of 8 = 2 pixels: Pillow reads source column x + 2, and fills where that is outside.
        float[] t = x.clone();
        applyOp(RandAugment.Op.TRANSLATE_X_REL, 0.25, t, 1, s, s, fill);
        for (int y = 0; y < s; y++) {
            for (int xx = 0; xx < s; xx++) {
                float expected = xx + 2 < s ? x[y * s + xx + 2] : 0.5f;
                assertEquals(expected, t[y * s + xx], 1e-6f, "translate x: y " + y + " x " + xx);
            }
        }
        float[] ty = x.clone();
        applyOp(RandAugment.Op.TRANSLATE_Y_REL, -0.25, ty, 1, s, s, fill);
        for (int y = 0; y < s; y++) {
            for (int xx = 0; xx < s; xx++) {
                float expected = y - 2 >= 0 ? x[(y - 2) * s + xx] : 0.5f;
                assertEquals(expected, ty[y * s + xx], 1e-6f, "translate y: y " + y + " x " + xx);
            }
        }

        // Rotating a square by 90 degrees counter-clockwise: output (row y, column x) is input (row x, column s-1-y).
        float[] rot = x.clone();
        applyOp(RandAugment.Op.ROTATE, 90, rot, 1, s, s, fill);
        for (int y = 0; y < s; y++) {
            for (int xx = 0; xx < s; xx++) {
                assertEquals(x[xx * s + (s - 1 - y)], rot[y * s + xx], 1e-5f, "rotate 90: y " + y + " x " + xx);
            }
        }

        // ShearX 0.3: row y reads source x + 0.3 (y + 0.5), interpolated between the two nearest columns.
        float[] sh = x.clone();
        applyOp(RandAugment.Op.SHEAR_X, 0.3, sh, 1, s, s, fill);
        for (int y = 0; y < s; y++) {
            double shift = 0.3 * (y + 0.5);
            for (int xx = 0; xx < s; xx++) {
                double src = xx + 0.5 + shift;
                float expected;
                if (src >= s) {
                    expected = 0.5f;
                } else {
                    double pos = src - 0.5;
                    int x0 = (int) Math.floor(pos);
                    double f = pos - x0;
                    int x1 = Math.min(x0 + 1, s - 1);
                    expected = (float) ((1 - f) * x[y * s + x0] + f * x[y * s + x1]);
                }
                assertEquals(expected, sh[y * s + xx], 1e-5f, "shear x: y " + y + " x " + xx);
            }
        }
        // ShearY is ShearX of the transposed image.
        float[] tr = new float[s * s];
        for (int y = 0; y < s; y++) for (int xx = 0; xx < s; xx++) tr[xx * s + y] = x[y * s + xx];
        applyOp(RandAugment.Op.SHEAR_Y, 0.3, tr, 1, s, s, fill);
        for (int y = 0; y < s; y++) {
            for (int xx = 0; xx < s; xx++) assertEquals(sh[y * s + xx], tr[xx * s + y], 1e-6f, "shear y vs x");
        }
    }

    @Test
    void geometricOpsFillEachChannelWithItsOwnValue() {
        int c = 3, s = 10, plane = s * s;
        float[] x = image8(c * plane, new Random(12));
        float[] fill = {0.1f, 0.2f, 0.3f};
        applyOp(RandAugment.Op.TRANSLATE_X_REL, 0.45, x, c, s, s, fill);
        // 4.5 pixels: output column x reads x + 4.5 + 0.5, outside from column 5 on.
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < s; y++) {
                for (int xx = 5; xx < s; xx++) assertEquals(fill[ch], x[ch * plane + y * s + xx], "ch " + ch);
            }
        }
    }

    @Test
    void outputsStayInUnitRangeAndGreyImagesStayGrey() {
        RandAugment grey = RandAugment.mae(new float[] {0.2860f});
        RandAugment rgb = RandAugment.mae(new float[] {0.485f, 0.456f, 0.406f});
        RandAugment always = new RandAugment(3, 10, 0, 1.0, RandAugment.INCREASING_OPS, new float[] {0.3f});
        Random data = new Random(13);
        int changed = 0, images = 600;
        for (int i = 0; i < images; i++) {
            Random rng = new Random(i);
            float[] g = new float[3 + 16 * 16 + 3];
            for (int k = 3; k < g.length - 3; k++) g[k] = data.nextFloat();
            float[] orig = g.clone();
            grey.apply(g, 3, 1, 16, rng);
            for (int k = 0; k < 3; k++) {
                assertEquals(orig[k], g[k], "guard before");
                assertEquals(orig[g.length - 1 - k], g[g.length - 1 - k], "guard after");
            }
            for (int k = 3; k < g.length - 3; k++) assertTrue(g[k] >= 0 && g[k] <= 1, "grey value " + g[k]);
            if (!java.util.Arrays.equals(orig, g)) changed++;
            float[] a = new float[16 * 16];
            for (int k = 0; k < a.length; k++) a[k] = data.nextFloat();
            always.apply(a, 0, 1, 16, rng);
            for (float v : a) assertTrue(v >= 0 && v <= 1, "value " + v);
            float[] c = new float[3 * 12 * 12];
            for (int k = 0; k < c.length; k++) c[k] = data.nextFloat();
            rgb.apply(c, 0, 3, 12, rng);
            for (float v : c) assertTrue(v >= 0 && v <= 1, "rgb value " + v);
        }
        // Neither of the two ops runs with probability 0.25; a few ops (Color on grey) change nothing either.
        double fraction = changed / (double) images;
        assertTrue(fraction > 0.6 && fraction < 0.8, "fraction of changed grey images " + fraction);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> grey.apply(new float[3 * 16 * 16], 0, 3, 16, new Random(0)));
        assertTrue(e.getMessage().contains("3 channels") && e.getMessage().contains("1"), e.getMessage());
    }

    @Test
    void composesWithTheCropAndNormalizationOfTheFineTuningPipeline() {
        // crop + flip (no normalization) -> RandAugment -> Normalize -> RandomErasing, on a grey image. Pixels a
        // translation uncovers hold the fill, which is the 8-bit-rounded mean, so they normalize to about 0.
        Augment full = Augment.mae(1);
        Augment cropOnly = full.withNormalization(new float[] {0f}, new float[] {1f});
        RandAugment shiftOnly = new RandAugment(1, 10, 0, 1.0, List.of(RandAugment.Op.TRANSLATE_X_REL), full.mean());
        int s = 16;
        float[] src = image8(s * s, new Random(20));
        float[] img = new float[s * s];
        Random rng = new Random(21);
        cropOnly.apply(src, 0, 1, s, img, 0, rng);
        shiftOnly.apply(img, 0, 1, s, rng);
        full.normalizeOnly(img, 0, 1, s, img, 0);
        int filled = 0;
        for (int y = 0; y < s; y++) {
            // A 0.45 * 16 = 7.2 pixel shift uncovers the 7 columns on one side, whichever sign was drawn.
            boolean right = true, left = true;
            for (int x = 0; x < 7; x++) {
                right &= Math.abs(img[y * s + s - 1 - x]) < 2e-3f;
                left &= Math.abs(img[y * s + x]) < 2e-3f;
            }
            if (right || left) filled++;
        }
        assertEquals(s, filled, "rows whose uncovered columns normalize to about 0");
        List<Box> erased = RandomErasing.of(1).apply(img, 0, 1, s, rng);
        assertEquals(1, erased.size());
    }

    @Test
    void opProbabilityAndOpChoiceFollowTheConfig() {
        RandAugment invertOnly = new RandAugment(1, 9, 0.5, 0.5, List.of(RandAugment.Op.INVERT), new float[] {0});
        Random rng = new Random(14);
        int inverted = 0, images = 4000;
        for (int i = 0; i < images; i++) {
            float[] img = {0.25f};
            invertOnly.apply(img, 0, 1, 1, rng);
            if (img[0] == 0.75f) inverted++;
        }
        assertEquals(0.5, inverted / (double) images, 0.03, "fraction of images the op ran on");
        // Two ops, both Invert, each at prob 1: inverted twice, the identity.
        RandAugment twice = new RandAugment(2, 9, 0, 1.0, List.of(RandAugment.Op.INVERT), new float[] {0});
        float[] img = {0.25f};
        twice.apply(img, 0, 1, 1, rng);
        assertEquals(0.25f, img[0]);
        RandAugment never = new RandAugment(2, 9, 0.5, 0.0, RandAugment.INCREASING_OPS, new float[] {0});
        float[] x = image8(64, new Random(15));
        float[] o = x.clone();
        never.apply(x, 0, 1, 8, rng);
        assertArrayEquals(o, x);
    }

    @Test
    void noneDrawsNothingAndChangesNothing() {
        RandAugment none = RandAugment.none(1);
        assertFalse(none.enabled());
        Random rng = new Random(16);
        float[] x = image8(64, new Random(17));
        float[] o = x.clone();
        none.apply(x, 0, 1, 8, rng);
        assertArrayEquals(o, x);
        assertEquals(new Random(16).nextLong(), rng.nextLong(), "RandAugment.none drew random numbers");
    }

    @Test
    void equalSeedsGiveEqualOutputs() {
        RandAugment ra = RandAugment.mae(new float[] {0.485f, 0.456f, 0.406f});
        int differ = 0;
        for (long seed = 0; seed < 30; seed++) {
            float[] a = image8(3 * 14 * 14, new Random(18));
            float[] b = a.clone();
            float[] d = a.clone();
            ra.apply(a, 0, 3, 14, new Random(seed));
            ra.apply(b, 0, 3, 14, new Random(seed));
            ra.apply(d, 0, 3, 14, new Random(seed + 1000));
            assertArrayEquals(a, b, "seed " + seed);
            if (!java.util.Arrays.equals(a, d)) differ++;
        }
        assertTrue(differ > 15, "only " + differ + " of 30 other seeds gave another image");
    }

    @Test
    void badArgumentsGiveClearErrors() {
        float[] f = {0};
        List<RandAugment.Op> ops = RandAugment.INCREASING_OPS;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RandAugment(-1, 9, 0.5, 0.5, ops, f))
                .getMessage().contains("numOps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RandAugment(2, 11, 0.5, 0.5, ops, f))
                .getMessage().contains("magnitude"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RandAugment(2, 9, -1, 0.5, ops, f))
                .getMessage().contains("magnitudeStd"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RandAugment(2, 9, 0.5, 1.5, ops, f))
                .getMessage().contains("opProb"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RandAugment(2, 9, 0.5, 0.5, List.of(), f))
                .getMessage().contains("ops"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new RandAugment(2, 9, 0.5, 0.5, ops, new float[] {1.5f})).getMessage().contains("fill[0]"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> RandAugment.mae(new float[] {2f})).getMessage().contains("mean[0]"));
        IllegalArgumentException shortArray = assertThrows(IllegalArgumentException.class,
                () -> RandAugment.mae(f).apply(new float[15], 0, 1, 4, new Random(0)));
        assertTrue(shortArray.getMessage().contains("15") && shortArray.getMessage().contains("16"),
                shortArray.getMessage());
        assertEquals(RandAugment.Op.SOLARIZE_ADD, RandAugment.Op.ofTimmName("SolarizeAdd"));
        assertThrows(IllegalArgumentException.class, () -> RandAugment.Op.ofTimmName("Cutout"));
        for (RandAugment.Op op : INC) assertEquals(op, RandAugment.Op.ofTimmName(op.timmName()));
    }
}
