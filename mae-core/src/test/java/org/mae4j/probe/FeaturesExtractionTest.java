package org.mae4j.probe;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Features of the frozen encoder: the cls row or the patch mean of its tokens, and their validation. */
class FeaturesExtractionTest {

    @Test
    void badFeaturesAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Features(new float[5], new int[2], 2, 2));
        assertTrue(e.getMessage().contains("5 values"), e.getMessage());
    }

    /** 5 labeled noise images for the micro model. */
    record Labeled(int size) implements ImageDataset {
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return true; }
        @Override public int label(int i) { return i % 2; }
        @Override public List<String> classNames() { return List.of("even", "odd"); }
        @Override public void image(int i, float[] dst, int off) {
            Random r = new Random(i);
            for (int k = 0; k < 3 * 16 * 16; k++) dst[off + k] = r.nextFloat();
        }
    }

    @Test
    void featuresAreTheEncodersTokensPooled() {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.micro(), new Random(2));
        Labeled data = new Labeled(5);
        Augment norm = Augment.mae(3);
        // batch 2 over 5 images: two full batches and a partial one
        Features cls = Features.extract(m, data, norm, Features.Pool.CLS, 2, null);
        Features mean = Features.extract(m, data, norm, Features.Pool.MEAN, 2, null);
        assertArrayEquals(new int[] {0, 1, 0, 1, 0}, cls.labels());

        float[] all = new float[5 * 768];
        for (int i = 0; i < 5; i++) {
            data.image(i, all, i * 768);
            norm.normalizeOnly(all, i * 768, 3, 16, all, i * 768);
        }
        INDArray tokens = m.encode(Nd4j.create(all, new long[] {5, 3, 16, 16}, 'c')).dup();   // [5, 17, 32]
        for (int i = 0; i < 5; i++) {
            for (int k = 0; k < 32; k++) {
                assertEquals(tokens.getFloat(i, 0, k), cls.x()[i * 32 + k], 1e-5, "cls feature " + i + "," + k);
                assertEquals(tokens.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 17),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(k)).meanNumber().floatValue(), mean.x()[i * 32 + k], 1e-5, "mean feature " + i + "," + k);
            }
        }
        assertEquals(DataType.FLOAT, tokens.dataType());
    }
}
