package org.mae4j.nn;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/** LayerNorm over the last dim (biased variance), gamma = {@code prefix.weight}, beta = {@code prefix.bias}, both [F]. */
public final class LayerNorm {
    private final Kernels k;
    private final double eps;
    private final INDArray gamma, beta, dgamma, dbeta;

    public LayerNorm(Kernels k, ParamStore store, String prefix, double eps) {
        this.k = k;
        this.eps = eps;
        this.gamma = store.param(prefix + ".weight");
        this.beta = store.param(prefix + ".bias");
        this.dgamma = store.grad(prefix + ".weight");
        this.dbeta = store.grad(prefix + ".bias");
    }

    public static void declare(ParamStore.Builder layout, String prefix, int width) {
        layout.add(prefix + ".weight", true, width).add(prefix + ".bias", true, width);
    }

    /** x [R, F] -> out [R, F]; mean, rstd [R] are saved for the backward. */
    public void forward(INDArray x, INDArray out, INDArray mean, INDArray rstd) {
        k.layerNorm(x, gamma, beta, eps, out, mean, rstd);
    }

    /** dx += d out/d x applied to dout; parameter gradients accumulate. */
    public void backward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray dx) {
        k.layerNormBackward(dout, x, mean, rstd, gamma, dx, dgamma, dbeta);
    }
}
