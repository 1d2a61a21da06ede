package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The patch embedding, a stride-p convolution, computed as a matrix product over patches:
 * {@code e = cols W^T + b} with W = {@code patch_embed.proj.weight} [D, C, p, p] read as [D, C*p*p].
 * Shapes: cols [R, C*p*p] in (c, p_row, p_col) order (see {@link org.mae4j.engine.Kernels#patchify}), e [R, D].
 */
public final class PatchEmbed {
    static final String PREFIX = "patch_embed.proj";
    private final Kernels k;
    private final INDArray w, b, dw, db;

    public PatchEmbed(Kernels k, ParamStore store) {
        this.k = k;
        INDArray w4 = store.param(PREFIX + ".weight");
        this.w = w4.reshape('c', w4.size(0), w4.length() / w4.size(0));
        this.b = store.param(PREFIX + ".bias");
        INDArray dw4 = store.grad(PREFIX + ".weight");
        this.dw = dw4.reshape('c', dw4.size(0), dw4.length() / dw4.size(0));
        this.db = store.grad(PREFIX + ".bias");
    }

    public static void declare(ParamStore.Builder layout, MaeConfig c) {
        layout.add(PREFIX + ".weight", true, c.encoder().width(), c.channels(), c.patchSize(), c.patchSize());
        layout.add(PREFIX + ".bias", true, c.encoder().width());
    }

    public void forward(INDArray cols, INDArray e) {
        k.gemm(cols, false, w, true, e, 1, 0);
        k.addRowVector(e, b);
    }

    /** The input is pixels, so only the parameter gradients are needed. */
    public void backward(INDArray de, INDArray cols) {
        k.gemm(de, true, cols, false, dw, 1, 1);
        k.sumRowsInto(de, db);
    }
}
