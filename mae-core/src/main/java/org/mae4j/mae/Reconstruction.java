package org.mae4j.mae;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turning predictions back into pictures (as the reference demo does). Pure functions.
 */
public final class Reconstruction {
    private Reconstruction() {}

    /**
     * pred [N, L, P] -> images [N, C, H, W] in the input's value space. With a norm-pix model the prediction
     * is in per-patch standardised units, so each patch is mapped back with the mean and (unbiased) variance
     * of the corresponding patch of the input images, exactly inverting the loss's target normalisation.
     */
    public static INDArray toImages(INDArray pred, INDArray images, int patchSize, boolean normPix) {
        int c = (int) images.size(1);
        INDArray p = pred.dup('c');
        if (normPix) {
            INDArray target = Patchify.patchify(images.castTo(pred.dataType()), patchSize);          // [N, L, P]
            long n = target.size(0), l = target.size(1);
            INDArray mean = target.mean(2).reshape(n, l, 1);
            INDArray var = target.var(true, 2).reshape(n, l, 1);                                     // unbiased
            INDArray std = org.nd4j.linalg.ops.transforms.Transforms.sqrt(var.addi(MaskedPatchLoss.NORM_PIX_EPS), false);
            p.muli(std.broadcast(p.shape())).addi(mean.broadcast(p.shape()));
        }
        return Patchify.unpatchify(p, patchSize, c);
    }
}
