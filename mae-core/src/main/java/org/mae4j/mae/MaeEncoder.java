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

    private Pass train;                               // buffers of the last forward(), for the backward
    private INDArray last, dres, dKeptEmb;            // last block's output; backward work buffers
    private TransformerBlock.Scratch scratch;
    private MaskSample mask;
    private Pass inference;                           // buffers of infer(), apart from forward()'s
    private TransformerBlock.Activations shared;      // one set for all blocks in infer()

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

    /** images [N,C,H,W] -> latent [N*(1+K), D] (a buffer of this encoder, valid until its next forward). */
    public INDArray forward(INDArray images, MaskSample m) {
        int nb = checkMask(images, m), kk = m.k();
        if (train == null || !train.fits(nb, kk)) {
            train = new Pass(nb, kk);
            long r = (long) nb * (1 + kk);
            dres = Nd4j.create(dtype, r, cfg.encoder().width());
            dKeptEmb = Nd4j.create(dtype, (long) nb * kk, cfg.encoder().width());
            scratch = new TransformerBlock.Scratch(dtype, (int) r, cfg.encoder());
        }
        this.mask = m;
        INDArray x = embed(images, m, train);
        for (TransformerBlock blk : blocks) x = blk.forward(x, nb, 1 + kk);
        last = x;
        norm.forward(x, train.latent, train.mean, train.rstd);
        return train.latent;
    }

    /**
     * The same latent as {@link #forward} for inference (features): nothing is kept for a backward, all blocks
     * share one set of activations (1/depth of forward's memory: for tinyFmnist at B=256 without masking,
     * ~0.2 GB instead of ~2 GB), and the last forward's state, and so {@link #backward}, is untouched.
     * images [N,C,H,W] -> latent [N*(1+K), D] (a buffer of this encoder, valid until the next infer).
     */
    public INDArray infer(INDArray images, MaskSample m) {
        INDArray x = inferBlocks(images, m);
        norm.forward(x, inference.latent, inference.mean, inference.rstd);
        return inference.latent;
    }

    /**
     * {@link #infer} without the final norm, for heads that pool the tokens first and normalise the pooled
     * vector ({@code fc_norm} of a global-pool classifier, whose weights have no {@code norm}).
     * images [N,C,H,W] -> the last block's output [N*(1+K), D] (a buffer of this encoder, valid until the next infer).
     */
    public INDArray inferBlocks(INDArray images, MaskSample m) {
        int nb = checkMask(images, m), kk = m.k();
        if (inference == null || !inference.fits(nb, kk)) {
            inference = new Pass(nb, kk);
            shared = new TransformerBlock.Activations(dtype, nb, 1 + kk, cfg.encoder());
        }
        INDArray x = embed(images, m, inference);
        for (TransformerBlock blk : blocks) x = blk.infer(x, shared);
        return x;
    }

    /** Receives a block's output during {@link #infer(INDArray, MaskSample, BlockTap)}. */
    @FunctionalInterface
    public interface BlockTap {
        /** rows [N*(1+K), D]: block `block`'s output before the final norm; valid only during the call. */
        void accept(int block, INDArray rows);
    }

    /**
     * {@link #infer(INDArray, MaskSample)}, also handing every block's output to tap (read-only; for features
     * from intermediate blocks). images [N,C,H,W] -> latent [N*(1+K), D], as infer.
     */
    public INDArray infer(INDArray images, MaskSample m, BlockTap tap) {
        java.util.Objects.requireNonNull(tap, "tap");
        int nb = checkMask(images, m), kk = m.k();
        if (inference == null || !inference.fits(nb, kk)) {
            inference = new Pass(nb, kk);
            shared = new TransformerBlock.Activations(dtype, nb, 1 + kk, cfg.encoder());
        }
        INDArray x = embed(images, m, inference);
        for (int i = 0; i < blocks.length; i++) {
            x = blocks[i].infer(x, shared);
            tap.accept(i, x);
        }
        norm.forward(x, inference.latent, inference.mean, inference.rstd);
        return inference.latent;
    }

    private int checkMask(INDArray images, MaskSample m) {
        int nb = (int) images.size(0), l = cfg.numPatches();
        if (m.n() != nb || m.l() != l) {
            throw new IllegalArgumentException("mask is for N=" + m.n() + ", L=" + m.l() + " but the batch has N=" + nb + ", L=" + l);
        }
        return nb;
    }

    /** Patch embedding of the kept patches, position rows and cls token into p.tokens, which it returns. */
    private INDArray embed(INDArray images, MaskSample m, Pass p) {
        int nb = p.n, kk = p.kept, l = cfg.numPatches();
        for (int b = 0; b < nb; b++) {
            for (int j = 0; j < kk; j++) {
                int i = b * kk + j, patch = m.kept(b, j);
                p.rowsKeptInCols[i] = b * l + patch;
                p.rowsTokens[i] = b * (1 + kk) + 1 + j;
                p.rowsKeptPos[i] = 1 + patch;
            }
        }
        k.patchify(images, cfg.patchSize(), p.cols, true);
        k.copyRows(p.cols, p.rowsKeptInCols, p.keptCols, p.rowsKeptCols, false);
        patchEmbed.forward(p.keptCols, p.keptEmb);
        k.copyRows(p.keptEmb, p.rowsKeptCols, p.tokens, p.rowsTokens, false);
        k.copyRows(pos, p.rowsKeptPos, p.tokens, p.rowsTokens, true);
        k.copyRows(cls, p.zeros, p.tokens, p.rowsCls, false);
        k.copyRows(pos, p.zeros, p.tokens, p.rowsCls, true);    // pos_embed[0] is zero; added as the reference does
        return p.tokens;
    }

    /** The encoder-level buffers of one pass over n images with `kept` kept patches each. */
    private final class Pass {
        final int n, kept;
        final INDArray cols, keptCols, keptEmb, tokens, latent, mean, rstd;
        final int[] rowsKeptCols, rowsKeptInCols, rowsTokens, rowsKeptPos, rowsCls, zeros;

        Pass(int n, int kk) {
            this.n = n;
            this.kept = kk;
            int l = cfg.numPatches(), d = cfg.encoder().width(), cpp = cfg.patchDim();
            long r = (long) n * (1 + kk);
            cols = Nd4j.create(dtype, (long) n * l, cpp);
            keptCols = Nd4j.create(dtype, (long) n * kk, cpp);
            keptEmb = Nd4j.create(dtype, (long) n * kk, d);
            tokens = Nd4j.create(dtype, r, d);
            latent = Nd4j.create(dtype, r, d);
            mean = Nd4j.create(dtype, r);
            rstd = Nd4j.create(dtype, r);
            rowsKeptCols = new int[n * kk]; rowsKeptInCols = new int[n * kk]; rowsTokens = new int[n * kk]; rowsKeptPos = new int[n * kk];
            rowsCls = new int[n]; zeros = new int[n];
            for (int b = 0; b < n; b++) rowsCls[b] = b * (1 + kk);
            for (int i = 0; i < n * kk; i++) rowsKeptCols[i] = i;
        }

        boolean fits(int n, int kk) { return this.n == n && this.kept == kk; }
    }

    /** Accumulates parameter gradients from dLatent [N*(1+K), D] (the gradient of the last forward's latent). */
    public void backward(INDArray dLatent) {
        if (mask == null) throw new IllegalStateException("backward() before forward()");
        k.zero(dres);
        norm.backward(dLatent, last, train.mean, train.rstd, dres);
        for (int i = blocks.length - 1; i >= 0; i--) blocks[i].backward(dres, scratch);
        k.copyRows(dres, train.rowsCls, dcls, train.zeros, true);
        k.copyRows(dres, train.rowsTokens, dKeptEmb, train.rowsKeptCols, false);
        patchEmbed.backward(dKeptEmb, train.keptCols);
    }
}
