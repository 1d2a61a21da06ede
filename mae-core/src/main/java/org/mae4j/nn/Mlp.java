package org.mae4j.nn;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code fc2(GELU(fc1(x)))} with the exact erf GELU; fc1 [Hm, W], fc2 [W, Hm]. Shapes: x [R, W], hidden [R, Hm]. */
public final class Mlp {
    private final Kernels k;
    private final Linear fc1, fc2;

    public Mlp(Kernels k, ParamStore store, String prefix) {
        this.k = k;
        this.fc1 = new Linear(k, store, prefix + ".fc1");
        this.fc2 = new Linear(k, store, prefix + ".fc2");
    }

    public static void declare(ParamStore.Builder layout, String prefix, int width, int hidden) {
        Linear.declare(layout, prefix + ".fc1", width, hidden);
        Linear.declare(layout, prefix + ".fc2", hidden, width);
    }

    /**
     * residual += fc2(GELU(fc1(x))); keeps g = GELU(fc1(x)) and, in gelu1, the derivative GELU'(fc1(x))
     * [R, Hm] for the backward (computed in the same pass, which is cheaper than recomputing it).
     */
    public void forwardAccumulate(INDArray x, INDArray gelu1, INDArray g, INDArray residual) {
        fc1.project(x, gelu1);
        k.biasGeluWithDerivative(gelu1, fc1.bias(), g);
        fc2.forwardAccumulate(g, residual);
    }

    /** out = fc2(GELU(fc1(x))) (overwrites out); keeps the same buffers as {@link #forwardAccumulate}. */
    public void forward(INDArray x, INDArray gelu1, INDArray g, INDArray out) {
        fc1.project(x, gelu1);
        k.biasGeluWithDerivative(gelu1, fc1.bias(), g);
        fc2.forward(g, out);
    }

    /** From dy [R, W] writes dx [R, W]; dHidden [R, Hm] is scratch. */
    public void backward(INDArray dy, INDArray x, INDArray gelu1, INDArray g, INDArray dHidden, INDArray dx) {
        fc2.backwardTimes(dy, g, dHidden, gelu1);   // dHidden = (dy W2) * GELU'(fc1 out)
        fc1.backward(dHidden, x, dx, false);
    }
}
