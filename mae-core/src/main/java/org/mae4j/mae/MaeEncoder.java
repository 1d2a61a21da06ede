package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.nn.LayerNorm;
import org.mae4j.nn.TransformerBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference's {@code forward_encoder}: embed the visible patches, add their position rows, prepend the
 * cls token, run the blocks, normalise. Only the K kept patches are embedded (the reference embeds all L
 * and drops the rest; each patch's embedding is the same either way).
 * Shapes: images [N,C,H,W] -> latent [N*(1+K), D], row b*(1+K) the cls token, then kept patches in
 * ascending-noise order.
 */
public final class MaeEncoder {
    private final MaeConfig cfg;
    private final Kernels k;
    private final DataType dtype;
    private final PatchEmbed patchEmbed;
    private final TransformerBlock[] blocks;
    private final LayerNorm norm;
    private final INDArray pos;     // [1+L, D], fixed
    private final INDArray cls, dcls; // [1, D]

    // Buffers for a batch of n images with k kept patches each.
    private int n = -1, kept = -1;
    private INDArray cols, keptCols, keptEmb, tokens, last, latent, mean, rstd, dres, dKeptEmb;
    private TransformerBlock.Scratch scratch;
    private MaskSample mask;
    private int[] rowsKeptCols, rowsKeptInCols, rowsTokens, rowsKeptPos, rowsCls, zeros;

    public MaeEncoder(MaeConfig cfg, Kernels k, ParamStore store) {
        this.cfg = cfg;
        this.k = k;
        this.dtype = store.dataType();
        this.patchEmbed = new PatchEmbed(k, store);
        this.blocks = new TransformerBlock[cfg.encoder().depth()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = new TransformerBlock(k, store, "blocks." + i, cfg.encoder(), cfg.normEps());
        this.norm = new LayerNorm(k, store, "norm", cfg.normEps());
        int d = cfg.encoder().width();
        this.pos = store.param("pos_embed").reshape('c', cfg.numPatches() + 1, d);
        this.cls = store.param("cls_token").reshape('c', 1, d);
        this.dcls = store.grad("cls_token").reshape('c', 1, d);
    }

    /** Parameter names and shapes in the reference's order (cls_token and pos_embed are declared by the model). */
    public static void declare(ParamStore.Builder layout, MaeConfig c) {
        PatchEmbed.declare(layout, c);
        for (int i = 0; i < c.encoder().depth(); i++) TransformerBlock.declare(layout, "blocks." + i, c.encoder());
        LayerNorm.declare(layout, "norm", c.encoder().width());
    }

    private void ensure(int n, int kk) {
        if (n == this.n && kk == this.kept) return;
        int l = cfg.numPatches(), d = cfg.encoder().width(), cpp = cfg.patchDim(), r = n * (1 + kk);
        cols = Nd4j.create(dtype, (long) n * l, cpp);
        keptCols = Nd4j.create(dtype, (long) n * kk, cpp);
        keptEmb = Nd4j.create(dtype, (long) n * kk, d);
        dKeptEmb = Nd4j.create(dtype, (long) n * kk, d);
        tokens = Nd4j.create(dtype, r, d);
        latent = Nd4j.create(dtype, r, d);
        dres = Nd4j.create(dtype, r, d);
        mean = Nd4j.create(dtype, r);
        rstd = Nd4j.create(dtype, r);
        scratch = new TransformerBlock.Scratch(dtype, r, cfg.encoder());
        rowsKeptCols = new int[n * kk]; rowsKeptInCols = new int[n * kk]; rowsTokens = new int[n * kk]; rowsKeptPos = new int[n * kk];
        rowsCls = new int[n]; zeros = new int[n];
        for (int b = 0; b < n; b++) rowsCls[b] = b * (1 + kk);
        for (int i = 0; i < n * kk; i++) rowsKeptCols[i] = i;
        this.n = n;
        this.kept = kk;
    }

    /** images [N,C,H,W] -> latent [N*(1+K), D] (a buffer of this encoder, valid until its next forward). */
    public INDArray forward(INDArray images, MaskSample m) {
        int nb = (int) images.size(0), l = cfg.numPatches(), kk = m.k();
        if (m.n() != nb || m.l() != l) {
            throw new IllegalArgumentException("mask is for N=" + m.n() + ", L=" + m.l() + " but the batch has N=" + nb + ", L=" + l);
        }
        ensure(nb, kk);
        this.mask = m;
        for (int b = 0; b < nb; b++) {
            for (int j = 0; j < kk; j++) {
                int i = b * kk + j, patch = m.kept(b, j);
                rowsKeptInCols[i] = b * l + patch;
                rowsTokens[i] = b * (1 + kk) + 1 + j;
                rowsKeptPos[i] = 1 + patch;
            }
        }
        k.patchify(images, cfg.patchSize(), cols, true);
        k.copyRows(cols, rowsKeptInCols, keptCols, rowsKeptCols, false);
        patchEmbed.forward(keptCols, keptEmb);
        k.copyRows(keptEmb, rowsKeptCols, tokens, rowsTokens, false);
        k.copyRows(pos, rowsKeptPos, tokens, rowsTokens, true);
        k.copyRows(cls, zeros, tokens, rowsCls, false);
        k.copyRows(pos, zeros, tokens, rowsCls, true);    // pos_embed[0] is zero; added as the reference does
        INDArray x = tokens;
        for (TransformerBlock blk : blocks) x = blk.forward(x, nb, 1 + kk);
        last = x;
        norm.forward(x, latent, mean, rstd);
        return latent;
    }

    /** Accumulates parameter gradients from dLatent [N*(1+K), D] (the gradient of the last forward's latent). */
    public void backward(INDArray dLatent) {
        if (mask == null) throw new IllegalStateException("backward() before forward()");
        k.zero(dres);
        norm.backward(dLatent, last, mean, rstd, dres);
        for (int i = blocks.length - 1; i >= 0; i--) blocks[i].backward(dres, scratch);
        k.copyRows(dres, rowsCls, dcls, zeros, true);
        k.copyRows(dres, rowsTokens, dKeptEmb, rowsKeptCols, false);
        patchEmbed.backward(dKeptEmb, keptCols);
    }
}
