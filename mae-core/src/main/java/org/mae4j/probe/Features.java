package org.mae4j.probe;

import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Frozen-encoder features of a whole dataset, as linear probing uses them: every image normalized (no
 * augmentation), encoded with no masking, then pooled to one D-vector.
 *
 * @param x      n rows of d features, row-major (x[i*d + j])
 * @param labels n class indices
 * @param n      images
 * @param d      features per image (the encoder width)
 */
public record Features(float[] x, int[] labels, int n, int d) {

    /** How the [1+L, D] token features of an image become one vector. */
    public enum Pool {
        /** The cls token after the encoder's final norm (the reference's linear probing, global_pool=False). */
        CLS,
        /** The mean of the L patch tokens after the final norm. */
        MEAN
    }

    public Features {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(labels, "labels");
        if (n < 1 || d < 1 || x.length != (long) n * d || labels.length != n) {
            throw new IllegalArgumentException("features need n*d values and n labels, got " + x.length + " values, " + labels.length
                    + " labels for n " + n + ", d " + d);
        }
    }

    /**
     * Encodes every image of a labeled dataset in batches.
     *
     * @param progress called with the number of images done after each batch (may be null)
     */
    public static Features extract(MaskedAutoencoder model, ImageDataset data, Augment normalization, Pool pool, int batch, IntConsumer progress) {
        if (!data.hasLabels()) throw new IllegalArgumentException("linear probing needs labels; " + data + " has none");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        var cfg = model.config();
        if (data.channels() != cfg.channels() || data.imageSize() != cfg.imageSize()) {
            throw new IllegalArgumentException(data + " has " + data.channels() + "-channel " + data.imageSize() + "px images, the model takes "
                    + cfg.channels() + "-channel " + cfg.imageSize() + "px");
        }
        int n = data.size(), d = cfg.encoder().width(), l = cfg.numPatches(), len = data.imageLength();
        int c = cfg.channels(), s = cfg.imageSize();
        float[] out = new float[n * d];
        int[] labels = new int[n];
        float[] staged = new float[batch * len];
        INDArray full = null;
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            for (int j = 0; j < b; j++) {
                data.image(start + j, staged, j * len);
                normalization.normalizeOnly(staged, j * len, c, s, staged, j * len);
                labels[start + j] = data.label(start + j);
            }
            INDArray images;
            if (b == batch) {
                if (full == null) full = Nd4j.create(DataType.FLOAT, batch, c, s, s);
                full.data().setData(staged);
                images = full;
            } else {
                images = Nd4j.create(java.util.Arrays.copyOf(staged, b * len), new long[] {b, c, s, s}, 'c');
            }
            float[] tokens = model.encode(images).castTo(DataType.FLOAT).dup('c').data().asFloat();   // [b, 1+L, D]
            for (int j = 0; j < b; j++) {
                int base = j * (1 + l) * d, dst = (start + j) * d;
                if (pool == Pool.CLS) {
                    System.arraycopy(tokens, base, out, dst, d);
                } else {
                    for (int t = 1; t <= l; t++) for (int k = 0; k < d; k++) out[dst + k] += tokens[base + t * d + k];
                    for (int k = 0; k < d; k++) out[dst + k] /= l;
                }
            }
            if (progress != null) progress.accept(start + b);
        }
        return new Features(out, labels, n, d);
    }
}
