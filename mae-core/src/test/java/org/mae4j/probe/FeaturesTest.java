package org.mae4j.probe;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Features from the last K blocks. On the 2-block micro model with K = 2: the second slice must be the
 * reference features (final norm of the last block's tokens, the usual extraction), and the first slice the
 * reference features of a 1-block model holding the same weights (its only block is block 0, and its final
 * norm is the same one), which is what "block 0's tokens through the final norm" means. The slices are
 * normalised in double here and by the float LayerNorm kernel there: measured difference 4.8e-7 (features of
 * order 1), tolerance 5e-6.
 */
class FeaturesTest {

    @Test
    void lastTwoBlocksAreEachBlocksNormalisedTokensConcatenated() {
        MaeConfig cfg = MaeConfig.micro();
        assertEquals(2, cfg.encoder().depth());
        MaskedAutoencoder full = MaskedAutoencoder.create(cfg, new Random(21));
        MaeConfig oneBlock = new MaeConfig(cfg.imageSize(), cfg.patchSize(), cfg.channels(), cfg.encoder().withDepth(1), cfg.decoder(),
                cfg.maskRatio(), cfg.normPixLoss(), cfg.normEps());
        MaskedAutoencoder truncated = MaskedAutoencoder.create(oneBlock, new Random(0));
        // the norm is not the identity at init (gamma 1, beta 0): give it values so that a missing norm shows
        Random r = new Random(22);
        for (String k : new String[] {"norm.weight", "norm.bias"}) {
            var p = full.params().param(k);
            for (long i = 0; i < p.length(); i++) p.putScalar(i, 1 + 0.5 * r.nextGaussian());
        }
        for (ParamStore.Entry e : truncated.params().entries()) truncated.params().set(e.name(), full.params().param(e.name()));

        FeaturesExtractionTest.Labeled data = new FeaturesExtractionTest.Labeled(5);
        Augment norm = Augment.mae(3);
        int w = cfg.encoder().width();
        for (Features.Pool pool : Features.Pool.values()) {
            Features two = Features.extract(full, data, norm, pool, 2, 2, null);
            Features last = Features.extract(full, data, norm, pool, 2, null);
            Features first = Features.extract(truncated, data, norm, pool, 2, null);
            assertEquals(2 * w, two.d());
            assertArrayEquals(last.labels(), two.labels());
            for (int i = 0; i < 5; i++) {
                for (int k = 0; k < w; k++) {
                    assertEquals(first.x()[i * w + k], two.x()[i * 2 * w + k], 5e-6, pool + " block 0, image " + i + ", feature " + k);
                    assertEquals(last.x()[i * w + k], two.x()[i * 2 * w + w + k], 5e-6, pool + " block 1, image " + i + ", feature " + k);
                }
            }
        }
    }

    @Test
    void oneBlockIsTheReferenceProtocol() {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.micro(), new Random(23));
        FeaturesExtractionTest.Labeled data = new FeaturesExtractionTest.Labeled(3);
        Augment norm = Augment.mae(3);
        assertArrayEquals(Features.extract(m, data, norm, Features.Pool.CLS, 2, null).x(),
                Features.extract(m, data, norm, Features.Pool.CLS, 1, 2, null).x());
    }

    @Test
    void blockCountOutsideTheEncoderIsRefused() {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.micro(), new Random(24));
        FeaturesExtractionTest.Labeled data = new FeaturesExtractionTest.Labeled(2);
        for (int k : new int[] {0, 3}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Features.extract(m, data, Augment.mae(3), Features.Pool.CLS, k, 2, null));
            assertTrue(e.getMessage().contains("1..2") && e.getMessage().contains("got " + k), e.getMessage());
        }
    }

    @Test
    void pixelsAreTheNormalizedImagesFlattened() {
        FeaturesExtractionTest.Labeled data = new FeaturesExtractionTest.Labeled(3);
        Augment norm = Augment.mae(3);
        Features f = Features.pixels(data, norm);
        assertEquals(3 * 16 * 16, f.d());
        assertArrayEquals(new int[] {0, 1, 0}, f.labels());
        float[] img = new float[768];
        data.image(2, img, 0);
        // ImageNet normalization of channel c: (v - mean[c]) / std[c], the image in [C, H, W] order
        for (int k = 0; k < 768; k += 97) {
            int c = k / 256;
            assertEquals((img[k] - norm.mean()[c]) / norm.std()[c], f.x()[2 * 768 + k], 1e-5, "pixel " + k);
        }
    }

    @Test
    void gatherCopiesTheOrderedRows() {
        Features f = new Features(new float[] {0, 1, 10, 11, 20, 21}, new int[] {5, 6, 7}, 3, 2);
        float[] x = new float[4];
        int[] y = new int[2];
        f.gather(new int[] {1, 2, 0}, 1, 2, x, y);
        assertArrayEquals(new float[] {20, 21, 0, 1}, x);
        assertArrayEquals(new int[] {7, 5}, y);
        var e = assertThrows(IllegalArgumentException.class, () -> f.gather(new int[] {0, 3}, 0, 2, x, y));
        assertTrue(e.getMessage().contains("row 3"), e.getMessage());
    }
}
