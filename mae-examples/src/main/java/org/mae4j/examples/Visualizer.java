package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.examples.viz.GridShape;
import org.mae4j.examples.viz.ReconstructionGrid;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskSample;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.Reconstruction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Reconstruction pictures (original | masked | reconstruction | reconstruction + visible) of fixed images, as
 * the reference demo draws them. Runs its own model over the given parameters, so a visualizer beside a
 * training loop leaves the training model's buffers alone.
 */
final class Visualizer {
    private final MaskedAutoencoder model;
    private final Augment normalization;
    private final INDArray images;          // normalized, [n, C, H, W]: what the model sees
    private final float[] display;          // the same images in [0, 1]
    private final GridShape shape;

    /** display: n images, C*H*W floats each in [0, 1]; the model sees them normalized with normalization's mean/std. */
    private Visualizer(MaeConfig cfg, ParamStore params, Kernels kernels, float[] display, Augment normalization) {
        int c = cfg.channels(), s = cfg.imageSize(), len = c * s * s, n = display.length / len;
        if (n < 1 || display.length != n * len) throw new IllegalArgumentException("need whole images of " + len + " values, got " + display.length);
        this.model = new MaskedAutoencoder(cfg, params, kernels);
        this.normalization = normalization;
        this.display = display;
        float[] norm = new float[display.length];
        for (int j = 0; j < n; j++) normalization.normalizeOnly(display, j * len, c, s, norm, j * len);
        this.images = Nd4j.create(norm, new long[] {n, c, s, s}, 'c').castTo(params.dataType());
        this.shape = new GridShape(n, c, s, s, cfg.patchSize());
    }

    /** The dataset's images at these indices. */
    /** The normalized images [n, C, H, W] the model sees. */
    INDArray images() { return images; }

    static Visualizer ofDataset(MaeConfig cfg, ParamStore params, Kernels kernels, ImageDataset data, int[] indices, Augment normalization) {
        if (indices.length < 1) throw new IllegalArgumentException("need at least one image to show");
        int len = data.imageLength();
        float[] display = new float[indices.length * len];
        for (int j = 0; j < indices.length; j++) {
            if (indices[j] < 0 || indices[j] >= data.size()) {
                throw new IllegalArgumentException("image index " + indices[j] + " is outside " + data + " (0.." + (data.size() - 1) + ")");
            }
            data.image(indices[j], display, j * len);
        }
        return new Visualizer(cfg, params, kernels, display, normalization);
    }

    /** Images already normalized, [N, C, H, W] (e.g. the tensors a PyTorch pipeline fed its model). */
    static Visualizer ofNormalized(MaeConfig cfg, ParamStore params, Kernels kernels, INDArray normalized, Augment normalization) {
        long[] want = {normalized.size(0), cfg.channels(), cfg.imageSize(), cfg.imageSize()};
        if (normalized.rank() != 4 || !Arrays.equals(normalized.shape(), want)) {
            throw new IllegalArgumentException("images must be [N, " + cfg.channels() + ", " + cfg.imageSize() + ", " + cfg.imageSize()
                    + "] for this model, got " + Arrays.toString(normalized.shape()));
        }
        float[] v = normalized.castTo(DataType.FLOAT).dup('c').data().asFloat();
        denormalize(v, normalization, cfg.channels(), cfg.imageSize() * cfg.imageSize());
        return new Visualizer(cfg, params, kernels, v, normalization);
    }

    /** The first n indices of a dataset (fewer if it is smaller). */
    static int[] firstIndices(ImageDataset data, int n) {
        int[] r = new int[Math.min(n, data.size())];
        for (int i = 0; i < r.length; i++) r[i] = i;
        return r;
    }

    /** Masks with a generator seeded by maskSeed, writes the grid, returns the model output (loss, mask). */
    MaeOutput write(Path png, long maskSeed) throws IOException {
        return draw(png, model.forward(images, new Random(maskSeed)));
    }

    /** Masks with the given noise [N, L] (small = kept), as the reference's forward does. */
    MaeOutput write(Path png, INDArray noise) throws IOException {
        return draw(png, model.forward(images, noise));
    }

    /** Masks with an explicit sample. */
    MaeOutput write(Path png, MaskSample mask) throws IOException {
        return draw(png, model.forward(images, mask));
    }

    private MaeOutput draw(Path png, MaeOutput out) throws IOException {
        MaeConfig cfg = model.config();
        INDArray recon = Reconstruction.toImages(out.pred(), images, cfg.patchSize(), cfg.normPixLoss());
        float[] r = recon.castTo(DataType.FLOAT).dup('c').data().asFloat();
        denormalize(r, normalization, cfg.channels(), cfg.imageSize() * cfg.imageSize());
        float[] mask = out.mask().castTo(DataType.FLOAT).dup('c').data().asFloat();
        ReconstructionGrid.write(png, display, r, mask, shape);
        return out;
    }

    /** x * std[c] + mean[c] in place, over images laid out C planes of the given size each. */
    private static void denormalize(float[] v, Augment a, int channels, int plane) {
        float[] mean = a.mean(), std = a.std();
        for (int i = 0; i < v.length; i++) {
            int ch = (i / plane) % channels;
            v[i] = v[i] * std[ch] + mean[ch];
        }
    }
}
