package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.mae4j.finetune.FinetuneRecipe;
import org.mae4j.config.Normalization;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** torchvision's RandomCrop(padding) + flip: same size, a pure function of the generator, content shifted by at most the padding. */
class PadCropTest {
    private static final int C = 2, S = 7, N = 2;

    private static float[] image() {
        float[] a = new float[C * S * S];
        Random r = new Random(5);
        for (int i = 0; i < a.length; i++) a[i] = 0.05f + 0.9f * r.nextFloat();   // no pixel is 0, the padding's value
        return a;
    }

    /** The source translated by (dy, dx) (output (y, x) reads source (y + dy, x + dx)), 0 outside, maybe mirrored. */
    private static float[] shifted(float[] src, int dy, int dx, boolean flip) {
        float[] out = new float[src.length];
        for (int c = 0; c < C; c++) for (int y = 0; y < S; y++) for (int x = 0; x < S; x++) {
            int sy = y + dy, sx = x + dx;
            int ox = flip ? S - 1 - x : x;
            out[(c * S + y) * S + ox] = sy >= 0 && sy < S && sx >= 0 && sx < S ? src[(c * S + sy) * S + sx] : 0f;
        }
        return out;
    }

    @Test
    void keepsTheSizeAndShiftsTheContentByAtMostThePadding() {
        float[] src = image();
        PadCrop crop = new PadCrop(N, true);
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 400; seed++) {
            float[] dst = new float[C * S * S + 3];   // the size: exactly C*S*S floats written from the offset, the rest untouched
            dst[0] = dst[dst.length - 1] = dst[dst.length - 2] = -7f;
            crop.apply(src, 0, C, S, dst, 1, new Random(seed));
            assertEquals(-7f, dst[0]);
            assertEquals(-7f, dst[dst.length - 2]);
            float[] out = java.util.Arrays.copyOfRange(dst, 1, 1 + C * S * S);
            String found = null;
            for (int dy = -N; dy <= N && found == null; dy++) for (int dx = -N; dx <= N && found == null; dx++) for (boolean f : new boolean[] {false, true}) {
                if (java.util.Arrays.equals(out, shifted(src, dy, dx, f))) { found = dy + "," + dx + "," + f; break; }
            }
            assertNotNull(found, "seed " + seed + ": the output is no shift of at most " + N + " pixels (with or without the flip) of the input");
            seen.add(found);
        }
        assertEquals((2 * N + 1) * (2 * N + 1) * 2, seen.size(), "every shift in [-2, 2]^2, flipped or not, is drawn: " + seen);
    }

    @Test
    void isAPureFunctionOfTheGenerator() {
        float[] src = image();
        PadCrop crop = new PadCrop(N, true);
        float[] a = new float[src.length], b = new float[src.length], same = src.clone();
        crop.apply(src, 0, C, S, a, 0, new Random(42));
        crop.apply(src, 0, C, S, b, 0, new Random(42));
        assertArrayEquals(a, b);
        crop.apply(same, 0, C, S, same, 0, new Random(42));   // in place, the same result
        assertArrayEquals(a, same);
        assertArrayEquals(image(), src, "the input is left as it was");
        boolean differs = false;
        for (int seed = 0; seed < 20 && !differs; seed++) {
            crop.apply(src, 0, C, S, b, 0, new Random(seed + 100));
            differs = !java.util.Arrays.equals(a, b);
        }
        assertTrue(differs, "other generator states give other crops");
        assertEquals("padding must be >= 0 pixels, got -1", assertThrows(IllegalArgumentException.class, () -> new PadCrop(-1, true)).getMessage());
    }

    @Test
    void theSmallImageTransformPadsWithBlackBeforeNormalizing() {
        // torchvision's RandomCrop(padding=2) pads the raw image with 0; after Normalize the border is -mean/std, not 0
        Normalization norm = new Normalization(new float[] {0.5f, 0.25f}, new float[] {0.5f, 0.5f});
        Transform t = FinetuneRecipe.smallImages().transform(norm);
        float[] src = image(), dst = new float[src.length];
        for (int seed = 0; seed < 100; seed++) {
            Random r = new Random(seed);
            t.apply(src, 0, C, S, dst, 0, r);
            float[] raw = new float[src.length];
            new PadCrop(N, true).apply(src, 0, C, S, raw, 0, new Random(seed));
            for (int c = 0; c < C; c++) for (int p = 0; p < S * S; p++) {
                int i = c * S * S + p;
                assertEquals((raw[i] - norm.mean()[c]) / norm.std()[c], dst[i], 1e-6, "pixel " + i);
            }
            boolean padded = false;
            for (float v : raw) padded |= v == 0f;
            if (padded) {
                boolean black = false;
                for (int p = 0; p < S * S; p++) black |= dst[p] == -1f;   // (0 - 0.5) / 0.5
                assertTrue(black);
                return;
            }
        }
        fail("no draw in 100 padded the image with 0");
    }
}
