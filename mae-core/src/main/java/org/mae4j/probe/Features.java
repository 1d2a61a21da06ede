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
 * augmentation), encoded with no masking, then pooled to one D-vector (or one per block for the last K blocks,
 * concatenated). Any float rows will do for the probe head: raw pixels are features too.
 *
 * @param x      n rows of d features, row-major (x[i*d + j])
 * @param labels n class indices
 * @param n      images
 * @param d      features per image (the encoder width, K times it for K blocks)
 */
public record Features(float[] x, int[] labels, int n, int d) {

    /** How the [1+L, D] token features of an image become one vector. */
    public enum Pool {
        /** The cls token after the encoder's final norm (the reference's linear probing, global_pool=False). */
        CLS,
        /** The mean of the L patch tokens after the final norm. */
        MEAN;

        /** From a command-line word: "cls" or "mean". */
        public static Pool parse(String option, String value) {
            return switch (value) {
                case "cls" -> CLS;
                case "mean" -> MEAN;
                default -> throw new IllegalArgumentException(option + " must be cls or mean, got " + value);
            };
        }
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
     * The raw-pixel baseline's features: every image normalized (no augmentation) and flattened in the
     * dataset's [C, H, W] order, d = C*H*W.
     */
    public static Features pixels(ImageDataset data, Augment normalization) {
        if (!data.hasLabels()) throw new IllegalArgumentException("a classifier needs labels; " + data + " has none");
        if (normalization.channels() != data.channels()) {
            throw new IllegalArgumentException("normalization is for " + normalization.channels() + " channels, " + data + " has " + data.channels());
        }
        int n = data.size(), len = data.imageLength();
        float[] x = new float[Math.multiplyExact(n, len)];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            data.image(i, x, i * len);
            normalization.normalizeOnly(x, i * len, data.channels(), data.imageSize(), x, i * len);
            labels[i] = data.label(i);
        }
        return new Features(x, labels, n, len);
    }

    /**
     * Copies rows order[from], ..., order[from + count - 1] into xOut [count, d] and their labels into
     * yOut [count]: a shuffled mini-batch for {@link ProbeHead#forwardTrain}.
     */
    public void gather(int[] order, int from, int count, float[] xOut, int[] yOut) {
        if (from < 0 || count < 0 || from + count > order.length) {
            throw new IllegalArgumentException("rows " + from + ".." + (from + count) + " are outside the order's " + order.length);
        }
        if (xOut.length < (long) count * d || yOut.length < count) {
            throw new IllegalArgumentException("output buffers hold " + xOut.length + " values / " + yOut.length + " labels, " + count + " rows need "
                    + (long) count * d + " / " + count);
        }
        for (int q = 0; q < count; q++) {
            int i = order[from + q];
            if (i < 0 || i >= n) throw new IllegalArgumentException("row " + i + " is outside [0, " + n + ")");
            System.arraycopy(x, i * d, xOut, q * d, d);
            yOut[q] = labels[i];
        }
    }

    /**
     * Encodes every image of a labeled dataset in batches: the reference protocol's features, the pooled
     * output of the encoder's final norm ({@code d} = D).
     *
     * @param progress called with the number of images done after each batch (may be null)
     */
    public static Features extract(MaskedAutoencoder model, ImageDataset data, Augment normalization, Pool pool, int batch, IntConsumer progress) {
        return extract(model, data, normalization, pool, 1, batch, progress);
    }

    /**
     * Encodes every image of a labeled dataset in batches, pooling the tokens of the last {@code lastBlocks}
     * blocks and concatenating them, earliest block first ({@code d} = lastBlocks * D). Every block's tokens
     * pass through the encoder's final norm (its weights, per token) before pooling, so each block's slice is
     * on the scale the probe's BatchNorm and the last block's features have; lastBlocks = 1 is exactly the
     * reference protocol's features, {@link #extract(MaskedAutoencoder, ImageDataset, Augment, Pool, int, IntConsumer)}.
     *
     * @param lastBlocks K in 1..depth
     * @param progress   called with the number of images done after each batch (may be null)
     */
    public static Features extract(MaskedAutoencoder model, ImageDataset data, Augment normalization, Pool pool, int lastBlocks, int batch,
                                   IntConsumer progress) {
        if (!data.hasLabels()) throw new IllegalArgumentException("linear probing needs labels; " + data + " has none");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        var cfg = model.config();
        int depth = cfg.encoder().depth();
        if (lastBlocks < 1 || lastBlocks > depth) {
            throw new IllegalArgumentException("features-from-blocks must be in 1.." + depth + " for this " + depth + "-block encoder, got " + lastBlocks);
        }
        if (data.channels() != cfg.channels() || data.imageSize() != cfg.imageSize()) {
            throw new IllegalArgumentException(data + " has " + data.channels() + "-channel " + data.imageSize() + "px images, the model takes "
                    + cfg.channels() + "-channel " + cfg.imageSize() + "px");
        }
        int n = data.size(), width = cfg.encoder().width(), d = lastBlocks * width, l = cfg.numPatches(), len = data.imageLength();
        int c = cfg.channels(), s = cfg.imageSize();
        batch = Math.max(1, Math.min(batch, n));   // a batch larger than the data holds no more images than the data
        org.mae4j.train.MemoryNeed.checkInference(cfg, batch, "feature extraction in batches of " + batch, "use a smaller batch");
        float[] out = new float[Math.multiplyExact(n, d)];
        int[] labels = new int[n];
        float[] staged = new float[batch * len];
        INDArray full = null;
        TokenNorm finalNorm = lastBlocks == 1 ? null : new TokenNorm(model);
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
            int first = start;
            if (finalNorm == null) {
                float[] tokens = model.encode(images).castTo(DataType.FLOAT).dup('c').data().asFloat();   // [b, 1+L, D]
                pool(tokens, null, pool, b, l, width, out, first * d, d);
            } else {
                model.encode(images, (block, rows) -> {
                    int slot = block - (depth - lastBlocks);
                    if (slot < 0) return;
                    float[] tokens = rows.castTo(DataType.FLOAT).dup('c').data().asFloat();        // [b*(1+L), D], before the final norm
                    pool(tokens, finalNorm, pool, b, l, width, out, first * d + slot * width, d);
                });
            }
            if (progress != null) progress.accept(start + b);
        }
        return new Features(out, labels, n, d);
    }

    /**
     * Pools tokens [b, 1+L, D] per image into out[dst + j*stride ...] (D values), normalising each pooled token
     * with norm first when it is not null.
     */
    private static void pool(float[] tokens, TokenNorm norm, Pool pool, int b, int l, int width, float[] out, int dst, int stride) {
        float[] row = new float[width];
        for (int j = 0; j < b; j++) {
            int base = j * (1 + l) * width, o = dst + j * stride;
            if (pool == Pool.CLS) {
                if (norm == null) System.arraycopy(tokens, base, out, o, width);
                else norm.apply(tokens, base, out, o);
            } else {
                double[] acc = new double[width];
                for (int t = 1; t <= l; t++) {
                    if (norm == null) for (int k = 0; k < width; k++) acc[k] += tokens[base + t * width + k];
                    else {
                        norm.apply(tokens, base + t * width, row, 0);
                        for (int k = 0; k < width; k++) acc[k] += row[k];
                    }
                }
                for (int k = 0; k < width; k++) out[o + k] = (float) (acc[k] / l);
            }
        }
    }

    /** The encoder's final LayerNorm ({@code norm.weight}, {@code norm.bias}, the config's eps) on one token, in double. */
    private static final class TokenNorm {
        private final double[] gamma, beta;
        private final double eps;

        TokenNorm(MaskedAutoencoder model) {
            gamma = model.params().param("norm.weight").castTo(DataType.DOUBLE).toDoubleVector();
            beta = model.params().param("norm.bias").castTo(DataType.DOUBLE).toDoubleVector();
            eps = model.config().normEps();
        }

        void apply(float[] x, int off, float[] out, int dst) {
            int w = gamma.length;
            double mean = 0, var = 0;
            for (int k = 0; k < w; k++) mean += x[off + k];
            mean /= w;
            for (int k = 0; k < w; k++) { double v = x[off + k] - mean; var += v * v; }
            double inv = 1 / Math.sqrt(var / w + eps);
            for (int k = 0; k < w; k++) out[dst + k] = (float) ((x[off + k] - mean) * inv * gamma[k] + beta[k]);
        }
    }
}
