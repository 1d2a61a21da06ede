package org.mae4j.nn;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code y = x W^T + b}; weight [out, in] (PyTorch layout), bias [out]. Shapes: x [R, in], y [R, out]. */
public final class Linear {
    private final Kernels k;
    private final INDArray w, b, dw, db;

    /** Uses the views {@code prefix.weight} and {@code prefix.bias} of the store. */
    public Linear(Kernels k, ParamStore store, String prefix) {
        this.k = k;
        this.w = store.param(prefix + ".weight");
        this.b = store.param(prefix + ".bias");
        this.dw = store.grad(prefix + ".weight");
        this.db = store.grad(prefix + ".bias");
    }

    /** Adds the names and shapes of this layer's parameters to a layout. */
    public static void declare(ParamStore.Builder layout, String prefix, int in, int out) {
        layout.add(prefix + ".weight", true, out, in).add(prefix + ".bias", true, out);
    }

    /** y = x W^T + b (overwrites y). */
    public void forward(INDArray x, INDArray y) {
        k.linear(x, w, y, 0, b);
    }

    /** y = x W^T without the bias, for callers that fuse the bias into the next pass ({@link #bias()}). */
    public void project(INDArray x, INDArray y) {
        k.gemm(x, false, w, true, y, 1, 0);
    }

    /** The bias view [out]. */
    public INDArray bias() { return b; }

    /** y += x W^T + b: the residual add comes free with the product (beta = 1). */
    public void forwardAccumulate(INDArray x, INDArray y) {
        k.linear(x, w, y, 1, b);
    }

    /**
     * As {@link #backward} with dx = (dy W) * mul element-wise (mul laid out as dx): the gradient through this
     * layer and then through an element-wise function whose derivative the forward kept.
     */
    public void backwardTimes(INDArray dy, INDArray x, INDArray dx, INDArray mul) {
        k.gemm(dy, true, x, false, dw, 1, 1);
        k.sumRowsInto(dy, db);
        k.gemmTimes(dy, false, w, false, dx, mul);
    }

    /**
     * dW += dy^T x, db += colsum(dy); and dx = dy W (or dx += dy W when accumulateDx) unless dx is null.
     * x is the forward input.
     */
    public void backward(INDArray dy, INDArray x, INDArray dx, boolean accumulateDx) {
        k.gemm(dy, true, x, false, dw, 1, 1);
        k.sumRowsInto(dy, db);
        if (dx != null) k.gemm(dy, false, w, false, dx, 1, accumulateDx ? 1 : 0);
    }
}
