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

class LinearProbeTest {

    /** n points of 3 Gaussian clusters in 16-d (centres 3 apart, unit noise, a large offset and scale per feature). */
    private static Features clusters(int n, long seed) {
        Random r = new Random(seed), centres = new Random(99);
        int d = 16, k = 3;
        float[][] c = new float[k][d];
        for (float[] row : c) for (int j = 0; j < d; j++) row[j] = (float) (centres.nextGaussian() * 3);
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(k);
            // offsets and scales that an unstandardized SGD would struggle with
            for (int j = 0; j < d; j++) x[i * d + j] = (float) ((c[y[i]][j] + r.nextGaussian()) * (1 + j) + 100 * j);
        }
        return new Features(x, y, n, d);
    }

    @Test
    void learnsSeparableClustersAndGeneralizes() {
        List<Double> losses = new ArrayList<>();
        LinearProbe p = LinearProbe.train(clusters(1200, 1), new LinearProbe.Options(10, 64, 0.1, 0, 3), (e, loss, acc) -> losses.add(loss));
        assertEquals(3, p.classes());
        assertEquals(10, losses.size());
        assertTrue(losses.get(9) < losses.get(0), "loss should fall: " + losses);
        double acc = p.accuracy(clusters(600, 2));
        assertTrue(acc > 0.97, "held-out accuracy " + acc);
    }

    @Test
    void randomLabelsStayNearChanceOnHeldOutData() {
        Features train = clusters(900, 4), test = clusters(900, 5);
        Random r = new Random(6);
        int[] noise = new int[train.n()];
        for (int i = 0; i < noise.length; i++) noise[i] = r.nextInt(3);
        LinearProbe p = LinearProbe.train(new Features(train.x(), noise, train.n(), train.d()), new LinearProbe.Options(5, 64, 0.05, 0, 0), null);
        int[] testNoise = new int[test.n()];
        for (int i = 0; i < testNoise.length; i++) testNoise[i] = r.nextInt(3);
        double acc = p.accuracy(new Features(test.x(), testNoise, test.n(), test.d()));
        assertTrue(acc < 0.45, "accuracy on unrelated labels should be near 1/3, got " + acc);
    }

    @Test
    void badInputIsNamed() {
        float[] x = {1, 2, Float.NaN, 4};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearProbe.train(new Features(x, new int[] {0, 1}, 2, 2), LinearProbe.Options.defaults(), null));
        assertTrue(e.getMessage().contains("feature 0") && e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Features(new float[5], new int[2], 2, 2));
        assertTrue(e.getMessage().contains("5 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LinearProbe.train(new Features(new float[4], new int[] {0, 0}, 2, 2),
                LinearProbe.Options.defaults(), null));
        assertTrue(e.getMessage().contains("2 classes"), e.getMessage());
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
