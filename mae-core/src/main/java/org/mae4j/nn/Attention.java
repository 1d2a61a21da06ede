package org.mae4j.nn;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Multi-head self-attention with a fused qkv projection ({@code prefix.qkv}, [3W, W]) and an output
 * projection ({@code prefix.proj}, [W, W]); no mask, no dropout. Shapes: x [N*T, W].
 */
public final class Attention {
    private final Kernels k;
    private final Linear qkv, proj;
    private final int heads;

    public Attention(Kernels k, ParamStore store, String prefix, int heads) {
        this.k = k;
        this.qkv = new Linear(k, store, prefix + ".qkv");
        this.proj = new Linear(k, store, prefix + ".proj");
        this.heads = heads;
    }

    public static void declare(ParamStore.Builder layout, String prefix, int width) {
        Linear.declare(layout, prefix + ".qkv", width, 3 * width);
        Linear.declare(layout, prefix + ".proj", width, width);
    }

    /** residual += proj(MHSA(x)); keeps qkvOut [N*T, 3W], probs [N*H*T, T] and att [N*T, W] for the backward. */
    public void forwardAccumulate(INDArray x, int n, int t, INDArray qkvOut, INDArray probs, INDArray att, INDArray residual) {
        qkv.forward(x, qkvOut);
        k.attention(qkvOut, n, t, heads, att, probs);
        proj.forwardAccumulate(att, residual);
    }

    /** out = proj(MHSA(x)) (overwrites out); keeps the same buffers as {@link #forwardAccumulate}. */
    public void forward(INDArray x, int n, int t, INDArray qkvOut, INDArray probs, INDArray att, INDArray out) {
        qkv.forward(x, qkvOut);
        k.attention(qkvOut, n, t, heads, att, probs);
        proj.forward(att, out);
    }

    /** From dy (the gradient of the block's residual stream) writes dx [N*T, W]; dAtt and dQkv are scratch. */
    public void backward(INDArray dy, INDArray x, int n, int t, INDArray qkvOut, INDArray probs, INDArray att,
                         INDArray dAtt, INDArray dQkv, INDArray dx) {
        proj.backward(dy, att, dAtt, false);
        k.attentionBackward(dAtt, qkvOut, probs, n, t, heads, dQkv);
        qkv.backward(dQkv, x, dx, false);
    }
}
