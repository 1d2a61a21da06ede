package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference's {@code forward_loss}: per patch the mean over its P values of (pred - target)^2, averaged
 * over the removed patches only. With normPixLoss each target patch is first standardised with its own
 * mean and UNBIASED variance (eps 1e-6, fixed in the reference). Shapes: out [N*(1+L), P] (decoder rows,
 * cls first), target and pred [N*L, P].
 */
public final class MaskedPatchLoss {
    /** The reference hard-codes this epsilon for the per-patch target normalisation. */
    public static final double NORM_PIX_EPS = 1e-6;

    private final MaeConfig cfg;
    private final Kernels k;
    private final DataType dtype;
    private int n = -1;
    private INDArray target, lossTarget, predRows, dPred, weights, dOut, maskArr;
    private int[] rowsOut, rowsPred;

    public MaskedPatchLoss(MaeConfig cfg, Kernels k, DataType dtype) {
        this.cfg = cfg;
        this.k = k;
        this.dtype = dtype;
    }

    private void ensure(int n) {
        if (n == this.n) return;
        int l = cfg.numPatches(), p = cfg.patchDim();
        target = Nd4j.create(dtype, (long) n * l, p);
        lossTarget = cfg.normPixLoss() ? Nd4j.create(dtype, (long) n * l, p) : target;
        predRows = Nd4j.create(dtype, (long) n * l, p);
        dPred = Nd4j.create(dtype, (long) n * l, p);
        weights = Nd4j.create(dtype, (long) n * l);
        maskArr = Nd4j.create(dtype, n, l);
        dOut = Nd4j.create(dtype, (long) n * (1 + l), p);
        rowsOut = new int[n * l];
        rowsPred = new int[n * l];
        for (int b = 0; b < n; b++) for (int i = 0; i < l; i++) { rowsOut[b * l + i] = b * (1 + l) + 1 + i; rowsPred[b * l + i] = b * l + i; }
        this.n = n;
    }

    /** Computes the loss of the decoder output against the images; keeps its gradient for {@link #gradient()}. */
    public double forward(INDArray images, INDArray out, MaskSample m) {
        ensure(m.n());
        k.patchify(images, cfg.patchSize(), target, false);
        if (cfg.normPixLoss()) k.standardizeRows(target, NORM_PIX_EPS, lossTarget);
        k.copyRows(out, rowsOut, predRows, rowsPred, false);
        double[] mask = m.mask();
        k.load(mask, maskArr);
        double removed = 0;
        for (double v : mask) removed += v;
        if (removed == 0) {
            // Nothing is hidden (mask ratio 0): the loss is undefined in the reference (0/0); report 0, no gradient.
            k.zero(weights);
        } else {
            for (int i = 0; i < mask.length; i++) mask[i] /= removed;
            k.load(mask, weights);
        }
        double loss = k.weightedRowMse(predRows, lossTarget, weights, dPred);
        k.zero(dOut);
        k.copyRows(dPred, rowsPred, dOut, rowsOut, false);
        return loss;
    }

    /** d loss / d out [N*(1+L), P] of the last forward (cls rows zero). */
    public INDArray gradient() { return dOut; }

    /** pred [N*L, P] of the last forward: the decoder output without the cls rows. */
    public INDArray pred() { return predRows; }

    /** patchify(images) [N*L, P] of the last forward, raw (not normalised). */
    public INDArray target() { return target; }

    /** The mask of the last forward, [N, L], 1 = removed. */
    public INDArray mask() { return maskArr; }
}
