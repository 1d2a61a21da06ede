package org.mae4j.examples;

import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.ParamStore;
import org.mae4j.examples.viz.GridShape;
import org.mae4j.examples.viz.ReconstructionGrid;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.Reconstruction;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Reconstruction pictures of fixed images under a fixed mask, so that pictures from different epochs (or
 * different runs) show the same inputs. Runs its own model over the shared parameters, leaving the training
 * model's buffers alone.
 */
final class Visualizer {
    private final MaskedAutoencoder model;
    private final Augment normalize;
    private final INDArray images;          // normalized, [n, C, H, W]
    private final float[] display;          // the same images in [0, 1]
    private final long maskSeed;
    private final GridShape shape;

    /** The images at the given dataset indices, normalized as in training (no crop or flip). */
    Visualizer(MaeConfig cfg, ParamStore params, Kernels kernels, ImageDataset data, int[] indices, Augment augment, long maskSeed) {
        if (indices.length < 1) throw new IllegalArgumentException("need at least one image to visualize");
        this.model = new MaskedAutoencoder(cfg, params, kernels);
        this.normalize = augment;
        this.maskSeed = maskSeed;
        int len = data.imageLength(), c = cfg.channels(), s = cfg.imageSize();
        this.display = new float[indices.length * len];
        float[] norm = new float[display.length];
        for (int j = 0; j < indices.length; j++) {
            if (indices[j] < 0 || indices[j] >= data.size()) {
                throw new IllegalArgumentException("image index " + indices[j] + " is outside the dataset (0.." + (data.size() - 1) + ")");
            }
            data.image(indices[j], display, j * len);
            augment.normalizeOnly(display, j * len, c, s, norm, j * len);
        }
        this.images = Nd4j.create(norm, new long[] {indices.length, c, s, s}, 'c').castTo(params.dataType());
        this.shape = new GridShape(indices.length, c, s, s, cfg.patchSize());
    }

    /** The first n images of a dataset. */
    static int[] firstIndices(ImageDataset data, int n) {
        int k = Math.min(n, data.size());
        int[] r = new int[k];
        for (int i = 0; i < k; i++) r[i] = i;
        return r;
    }

    /** Writes the four-panel grid (original | masked | reconstruction | reconstruction + visible) and returns the loss. */
    double write(Path png) throws IOException {
        MaeOutput out = model.forward(images, new Random(maskSeed));
        MaeConfig cfg = model.config();
        INDArray recon = Reconstruction.toImages(out.pred(), images, cfg.patchSize(), cfg.normPixLoss());
        float[] r = recon.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] mean = normalize.mean(), std = normalize.std();
        int plane = cfg.imageSize() * cfg.imageSize(), c = cfg.channels();
        for (int i = 0; i < r.length; i++) {
            int ch = (i / plane) % c;
            r[i] = r[i] * std[ch] + mean[ch];
        }
        float[] mask = out.mask().castTo(DataType.FLOAT).dup('c').data().asFloat();
        ReconstructionGrid.write(png, display, r, mask, shape);
        return out.loss();
    }
}
