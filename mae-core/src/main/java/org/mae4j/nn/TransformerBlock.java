package org.mae4j.nn;

import org.mae4j.config.VitSpec;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Pre-norm ViT block (timm {@code Block}): {@code x = x + dp(attn(norm1(x))); x = x + dp(mlp(norm2(x)))}, where
 * dp is drop path ({@link DropPath}) in a training forward given a mask source and the identity otherwise.
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
    private final double dropProb;

    private boolean[] keep;                   // one drop-path call's decisions [N]
    private float[] attnScale, mlpScale;      // per sample: 0 or 1/keep
    private boolean dropped;                  // the last forward applied drop path

    private INDArray x;        // the last forward's input, owned by the previous layer
    private Activations saved; // the last forward's activations, kept for the backward

    public TransformerBlock(Kernels k, ParamStore store, String prefix, VitSpec spec, double eps) {
        this(k, store, prefix, spec, eps, 0);
    }

    /** A block whose training forward drops its residual branches per sample with probability dropProb. */
    public TransformerBlock(Kernels k, ParamStore store, String prefix, VitSpec spec, double eps, double dropProb) {
        if (!(dropProb >= 0 && dropProb < 1)) throw new IllegalArgumentException(prefix + ": drop probability must be in [0, 1), got " + dropProb);
        this.dropProb = dropProb;
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

    /** x [N*T, W] -> the returned block output [N*T, W] (a buffer of this block, valid until its next forward). */
    public INDArray forward(INDArray x, int n, int t) {
        if (saved == null || !saved.fits(n, t)) saved = new Activations(dtype, n, t, spec);
        this.x = x;
        dropped = false;
        return run(x, saved);
    }

    /**
     * A training forward with drop path: when this block's drop probability is above 0 and masks is not null,
     * two calls to masks (attention branch, then MLP branch) decide which samples keep each branch; otherwise
     * as {@link #forward(INDArray, int, int)}. The scratch's branch buffer holds each branch's output
     * transiently. x [N*T, W] -> the returned output [N*T, W] (a buffer of this block).
     */
    public INDArray forward(INDArray x, int n, int t, DropPath.MaskSource masks, Scratch s) {
        if (dropProb == 0 || masks == null) return forward(x, n, t);
        if (saved == null || !saved.fits(n, t)) saved = new Activations(dtype, n, t, spec);
        if (s.rows() != (long) n * t) throw new IllegalArgumentException("scratch has " + s.rows() + " rows, the batch " + (long) n * t);
        if (keep == null || keep.length != n) { keep = new boolean[n]; attnScale = new float[n]; mlpScale = new float[n]; }
        this.x = x;
        dropped = true;
        masks.draw(dropProb, keep);
        DropPath.scales(keep, dropProb, attnScale);
        masks.draw(dropProb, keep);
        DropPath.scales(keep, dropProb, mlpScale);
        Activations a = saved;
        norm1.forward(x, a.ln1, a.mean1, a.rstd1);
        attn.forward(a.ln1, a.n, a.t, a.qkv, a.probs, a.att, s.branch());
        k.copy(x, a.mid);
        k.scaleRowGroups(s.branch(), attnScale, a.mid, true);
        norm2.forward(a.mid, a.ln2, a.mean2, a.rstd2);
        mlp.forward(a.ln2, a.dgelu, a.g, s.branch());
        k.copy(a.mid, a.out);
        k.scaleRowGroups(s.branch(), mlpScale, a.out, true);
        return a.out;
    }

    /** The drop probability of this block's training forward (0: never drops). */
    public double dropProb() { return dropProb; }

    /**
     * The same output as {@link #forward} without keeping anything for a backward: the activations go to
     * {@code a}, which every block of a stack can share (x may be the output the previous block wrote into the
     * same {@code a}). The last forward's activations, and so {@link #backward}, are untouched.
     */
    public INDArray infer(INDArray x, Activations a) {
        if (x.size(0) != (long) a.n * a.t) throw new IllegalArgumentException("infer: x has " + x.size(0) + " rows, activations are for " + a.n + " x " + a.t);
        return run(x, a);
    }

    private INDArray run(INDArray x, Activations a) {
        norm1.forward(x, a.ln1, a.mean1, a.rstd1);
        k.copy(x, a.mid);                      // x is not read after this, so it may be a.out
        attn.forwardAccumulate(a.ln1, a.n, a.t, a.qkv, a.probs, a.att, a.mid);
        norm2.forward(a.mid, a.ln2, a.mean2, a.rstd2);
        k.copy(a.mid, a.out);
        mlp.forwardAccumulate(a.ln2, a.dgelu, a.g, a.out);
        return a.out;
    }

    /**
     * In place: on entry dres holds dL/d(output); on exit dL/d(input). Parameter gradients accumulate.
     * The scratch buffers are shared by all blocks of a stack.
     */
    public void backward(INDArray dres, Scratch s) {
        if (saved == null) throw new IllegalStateException("backward() before forward()");
        Activations a = saved;
        if (dropped) {   // the branches saw dp(y) = scale * y: their gradient is scale * dres
            k.scaleRowGroups(dres, mlpScale, s.branch(), false);
            mlp.backward(s.branch(), a.ln2, a.dgelu, a.g, s.dHidden, s.dWidth);
            norm2.backward(s.dWidth, a.mid, a.mean2, a.rstd2, dres);
            k.scaleRowGroups(dres, attnScale, s.branch(), false);
            attn.backward(s.branch(), a.ln1, a.n, a.t, a.qkv, a.probs, a.att, s.dAtt, s.dQkv, s.dWidth);
            norm1.backward(s.dWidth, x, a.mean1, a.rstd1, dres);
            return;
        }
        mlp.backward(dres, a.ln2, a.dgelu, a.g, s.dHidden, s.dWidth);
        norm2.backward(s.dWidth, a.mid, a.mean2, a.rstd2, dres);
        attn.backward(dres, a.ln1, a.n, a.t, a.qkv, a.probs, a.att, s.dAtt, s.dQkv, s.dWidth);
        norm1.backward(s.dWidth, x, a.mean1, a.rstd1, dres);
    }

    /** One forward's activations for N sequences of T tokens (rows R = N*T), allocated once and reused. */
    public static final class Activations {
        final int n, t;
        final INDArray ln1, qkv, att, mid, ln2, out;   // [R, W] except qkv [R, 3W]
        final INDArray mean1, rstd1, mean2, rstd2;     // [R]
        final INDArray probs;                          // [N*H*T, T]
        final INDArray dgelu, g;                       // [R, Hm]: GELU'(fc1 out) and GELU(fc1 out)

        public Activations(DataType dtype, int n, int t, VitSpec spec) {
            this.n = n;
            this.t = t;
            long r = (long) n * t, w = spec.width();
            ln1 = Nd4j.create(dtype, r, w); qkv = Nd4j.create(dtype, r, 3 * w); att = Nd4j.create(dtype, r, w);
            mid = Nd4j.create(dtype, r, w); ln2 = Nd4j.create(dtype, r, w); out = Nd4j.create(dtype, r, w);
            mean1 = Nd4j.create(dtype, r); rstd1 = Nd4j.create(dtype, r); mean2 = Nd4j.create(dtype, r); rstd2 = Nd4j.create(dtype, r);
            probs = Nd4j.create(dtype, r * spec.heads(), t);
            dgelu = Nd4j.create(dtype, r, spec.mlpHidden()); g = Nd4j.create(dtype, r, spec.mlpHidden());
        }

        boolean fits(int n, int t) { return this.n == n && this.t == t; }
    }

    /**
     * Backward work buffers for a stack of blocks with R rows (and the branch buffer of drop-path forwards,
     * allocated on first use).
     */
    public static final class Scratch {
        final INDArray dWidth, dAtt, dQkv, dHidden;
        private final DataType dtype;
        private final int width;
        private INDArray branch;   // [R, W]
        public Scratch(DataType dtype, int rows, VitSpec spec) {
            this.dtype = dtype;
            this.width = spec.width();
            dWidth = Nd4j.create(dtype, rows, spec.width());
            dAtt = Nd4j.create(dtype, rows, spec.width());
            dQkv = Nd4j.create(dtype, rows, 3L * spec.width());
            dHidden = Nd4j.create(dtype, rows, spec.mlpHidden());
        }
        public long rows() { return dWidth.size(0); }

        INDArray branch() {
            if (branch == null) branch = Nd4j.create(dtype, dWidth.size(0), width);
            return branch;
        }
    }
}
