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

    /** residual += fc2(GELU(fc1(x))); keeps h = fc1(x) and g = GELU(h) [R, Hm] for the backward. */
    public void forwardAccumulate(INDArray x, INDArray h, INDArray g, INDArray residual) {
        fc1.project(x, h);
        k.biasGelu(h, fc1.bias(), g);   // bias and activation in one pass over h
        fc2.forwardAccumulate(g, residual);
    }

    /** From dy [R, W] writes dx [R, W]; dHidden [R, Hm] is scratch. */
    public void backward(INDArray dy, INDArray x, INDArray h, INDArray g, INDArray dHidden, INDArray dx) {
        fc2.backward(dy, g, dHidden, false);
        k.geluBackward(h, dHidden, dHidden);
        fc1.backward(dHidden, x, dx, false);
    }
}
