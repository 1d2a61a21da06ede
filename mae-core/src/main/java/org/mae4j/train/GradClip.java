package org.mae4j.train;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_(params, maxNorm)} (norm type 2):
 * the norm of all trainable tensors' gradients together; when it exceeds maxNorm every gradient is multiplied
 * by {@code maxNorm / (norm + 1e-6)}. Allocates no native memory on the CPU kernels.
 */
public final class GradClip {
    private GradClip() {}

    /**
     * Clips the store's gradients in place and returns their global L2 norm before clipping. A non-finite norm
     * is returned with the gradients untouched (PyTorch would scale them by NaN; the caller decides).
     */
    public static double clipGlobalNorm(ParamStore store, Kernels k, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) throw new IllegalArgumentException("max gradient norm must be finite and > 0, got " + maxNorm);
        double norm = Math.sqrt(sumOfSquares(store, k));
        if (!Double.isFinite(norm)) return norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            float[] c = {(float) coef};
            for (ParamStore.Entry e : store.entries()) {
                if (e.trainable()) k.scaleRowGroups(store.grad(e.name()), c, store.grad(e.name()), false);
            }
        }
        return norm;
    }

    /** The global L2 norm of the trainable tensors' gradients. */
    public static double globalNorm(ParamStore store, Kernels k) { return Math.sqrt(sumOfSquares(store, k)); }

    private static double sumOfSquares(ParamStore store, Kernels k) {
        double s = 0;
        for (ParamStore.Entry e : store.entries()) if (e.trainable()) s += k.sumOfSquares(store.grad(e.name()));
        return s;
    }
}
