package org.mae4j.nn;

import org.mae4j.config.VitSpec;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Pre-norm ViT block (timm {@code Block}): {@code x = x + attn(norm1(x)); x = x + mlp(norm2(x))}.
 * Owns the activations its backward needs, sized once per (N, T) and reused every step.
 * Shapes: x, out [N*T, W].
 */
public final class TransformerBlock {
    private final Kernels k;
    private final LayerNorm norm1, norm2;
    private final Attention attn;
    private final Mlp mlp;
    private final VitSpec spec;
    private final DataType dtype;

    // Saved activations (rows R = N*T); allocated by ensure().
    private int n = -1, t = -1;
    private INDArray x;                            // the input, owned by the previous layer
    private INDArray ln1, qkv, att, mid, ln2, out; // [R, W] except qkv [R, 3W]
    private INDArray mean1, rstd1, mean2, rstd2;   // [R]
    private INDArray probs;                        // [N*H*T, T]
    private INDArray dgelu, g;                     // [R, Hm]: GELU'(fc1 out) and GELU(fc1 out)

    public TransformerBlock(Kernels k, ParamStore store, String prefix, VitSpec spec, double eps) {
        this.k = k;
        this.spec = spec;
        this.dtype = store.dataType();
        this.norm1 = new LayerNorm(k, store, prefix + ".norm1", eps);
        this.attn = new Attention(k, store, prefix + ".attn", spec.heads());
        this.norm2 = new LayerNorm(k, store, prefix + ".norm2", eps);
        this.mlp = new Mlp(k, store, prefix + ".mlp");
    }

    /** Parameter names in the reference's state_dict order. */
    public static void declare(ParamStore.Builder layout, String prefix, VitSpec spec) {
        LayerNorm.declare(layout, prefix + ".norm1", spec.width());
        Attention.declare(layout, prefix + ".attn", spec.width());
        LayerNorm.declare(layout, prefix + ".norm2", spec.width());
        Mlp.declare(layout, prefix + ".mlp", spec.width(), spec.mlpHidden());
    }

    private void ensure(int n, int t) {
        if (n == this.n && t == this.t) return;
        int r = n * t, w = spec.width();
        ln1 = Nd4j.create(dtype, r, w); qkv = Nd4j.create(dtype, r, 3L * w); att = Nd4j.create(dtype, r, w);
        mid = Nd4j.create(dtype, r, w); ln2 = Nd4j.create(dtype, r, w); out = Nd4j.create(dtype, r, w);
        mean1 = Nd4j.create(dtype, r); rstd1 = Nd4j.create(dtype, r); mean2 = Nd4j.create(dtype, r); rstd2 = Nd4j.create(dtype, r);
        probs = Nd4j.create(dtype, (long) n * spec.heads() * t, t);
        dgelu = Nd4j.create(dtype, r, spec.mlpHidden()); g = Nd4j.create(dtype, r, spec.mlpHidden());
        this.n = n;
        this.t = t;
    }

    /** x [N*T, W] -> the returned block output [N*T, W] (a buffer of this block, valid until its next forward). */
    public INDArray forward(INDArray x, int n, int t) {
        ensure(n, t);
        this.x = x;
        norm1.forward(x, ln1, mean1, rstd1);
        k.copy(x, mid);
        attn.forwardAccumulate(ln1, n, t, qkv, probs, att, mid);
        norm2.forward(mid, ln2, mean2, rstd2);
        k.copy(mid, out);
        mlp.forwardAccumulate(ln2, dgelu, g, out);
        return out;
    }

    /**
     * In place: on entry dres holds dL/d(output); on exit dL/d(input). Parameter gradients accumulate.
     * The scratch buffers are shared by all blocks of a stack.
     */
    public void backward(INDArray dres, Scratch s) {
        mlp.backward(dres, ln2, dgelu, g, s.dHidden, s.dWidth);
        norm2.backward(s.dWidth, mid, mean2, rstd2, dres);
        attn.backward(dres, ln1, n, t, qkv, probs, att, s.dAtt, s.dQkv, s.dWidth);
        norm1.backward(s.dWidth, x, mean1, rstd1, dres);
    }

    /** Backward work buffers for a stack of blocks with R rows. */
    public static final class Scratch {
        final INDArray dWidth, dAtt, dQkv, dHidden;
        public Scratch(DataType dtype, int rows, VitSpec spec) {
            dWidth = Nd4j.create(dtype, rows, spec.width());
            dAtt = Nd4j.create(dtype, rows, spec.width());
            dQkv = Nd4j.create(dtype, rows, 3L * spec.width());
            dHidden = Nd4j.create(dtype, rows, spec.mlpHidden());
        }
        public long rows() { return dWidth.size(0); }
    }
}
