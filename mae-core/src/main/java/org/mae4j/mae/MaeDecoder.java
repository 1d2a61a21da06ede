package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.nn.LayerNorm;
import org.mae4j.nn.Linear;
import org.mae4j.nn.TransformerBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference's {@code forward_decoder}: project the latent to the decoder width, put every kept token
 * back at its patch position and the shared {@code mask_token} at every removed one (cls first), add the
 * decoder position table, run the blocks, normalise, predict p*p*C pixels per token.
 * Shapes: latent [N*(1+K), D] -> out [N*(1+L), P], row b*(1+L) the cls token (no meaning; dropped by the loss).
 */
public final class MaeDecoder {
    private final MaeConfig cfg;
    private final Kernels k;
    private final DataType dtype;
    private final Linear embed, pred;
    private final TransformerBlock[] blocks;
    private final LayerNorm norm;
    private final INDArray pos;                 // [1+L, E], fixed
    private final INDArray maskToken, dMaskToken; // [1, E]

    private int n = -1, kept = -1;
    private INDArray latent, y, z, last, normed, out, mean, rstd, dres, dNormed, dy;
    private TransformerBlock.Scratch scratch;
    private int[] rowsFromY, rowsToZ, rowsMasked, rowsPos, rowsAll;
    private int maskedCount;

    public MaeDecoder(MaeConfig cfg, Kernels k, ParamStore store) {
        this.cfg = cfg;
        this.k = k;
        this.dtype = store.dataType();
        this.embed = new Linear(k, store, "decoder_embed");
        this.blocks = new TransformerBlock[cfg.decoder().depth()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = new TransformerBlock(k, store, "decoder_blocks." + i, cfg.decoder(), cfg.normEps());
        this.norm = new LayerNorm(k, store, "decoder_norm", cfg.normEps());
        this.pred = new Linear(k, store, "decoder_pred");
        int e = cfg.decoder().width();
        this.pos = store.param("decoder_pos_embed").reshape('c', cfg.numPatches() + 1, e);
        this.maskToken = store.param("mask_token").reshape('c', 1, e);
        this.dMaskToken = store.grad("mask_token").reshape('c', 1, e);
    }

    /** Parameter names and shapes in the reference's order (mask_token and decoder_pos_embed are declared by the model). */
    public static void declare(ParamStore.Builder layout, MaeConfig c) {
        Linear.declare(layout, "decoder_embed", c.encoder().width(), c.decoder().width());
        for (int i = 0; i < c.decoder().depth(); i++) TransformerBlock.declare(layout, "decoder_blocks." + i, c.decoder());
        LayerNorm.declare(layout, "decoder_norm", c.decoder().width());
        Linear.declare(layout, "decoder_pred", c.decoder().width(), c.patchDim());
    }

    private void ensure(int n, int kk) {
        if (n == this.n && kk == this.kept) return;
        int l = cfg.numPatches(), e = cfg.decoder().width(), r = n * (1 + l);
        y = Nd4j.create(dtype, (long) n * (1 + kk), e);
        dy = Nd4j.create(dtype, (long) n * (1 + kk), e);
        z = Nd4j.create(dtype, r, e);
        normed = Nd4j.create(dtype, r, e);
        dNormed = Nd4j.create(dtype, r, e);
        dres = Nd4j.create(dtype, r, e);
        out = Nd4j.create(dtype, r, cfg.patchDim());
        mean = Nd4j.create(dtype, r);
        rstd = Nd4j.create(dtype, r);
        scratch = new TransformerBlock.Scratch(dtype, r, cfg.decoder());
        rowsFromY = new int[n * (1 + kk)];
        rowsToZ = new int[n * (1 + kk)];
        rowsMasked = new int[n * (l - kk)];
        rowsAll = new int[r];
        rowsPos = new int[r];
        for (int i = 0; i < r; i++) { rowsAll[i] = i; rowsPos[i] = i % (1 + l); }
        this.n = n;
        this.kept = kk;
    }

    /** latent [N*(1+K), D] -> out [N*(1+L), P] (a buffer of this decoder, valid until its next forward). */
    public INDArray forward(INDArray latent, MaskSample m) {
        int nb = m.n(), l = cfg.numPatches(), kk = m.k();
        if (latent.size(0) != (long) nb * (1 + kk)) {
            throw new IllegalArgumentException("latent has " + latent.size(0) + " rows, expected N*(1+K) = " + nb * (1 + kk));
        }
        ensure(nb, kk);
        this.latent = latent;
        int a = 0, mIdx = 0;
        for (int b = 0; b < nb; b++) {
            rowsFromY[a] = b * (1 + kk);
            rowsToZ[a++] = b * (1 + l);
            for (int p = 0; p < l; p++) {
                int zr = b * (1 + l) + 1 + p;
                if (m.removed(b, p)) {
                    rowsMasked[mIdx++] = zr;
                } else {
                    rowsFromY[a] = b * (1 + kk) + 1 + m.rank(b, p);
                    rowsToZ[a++] = zr;
                }
            }
        }
        maskedCount = mIdx;
        embed.forward(latent, y);
        k.copyRows(y, rowsFromY, z, rowsToZ, false);
        k.copyRows(maskToken, new int[maskedCount], z, rowsMasked, false);
        k.copyRows(pos, rowsPos, z, rowsAll, true);
        INDArray x = z;
        for (TransformerBlock blk : blocks) x = blk.forward(x, nb, 1 + l);
        last = x;
        norm.forward(x, normed, mean, rstd);
        pred.forward(normed, out);
        return out;
    }

    /** Accumulates parameter gradients from dOut [N*(1+L), P]; writes dLatent [N*(1+K), D]. */
    public void backward(INDArray dOut, INDArray dLatent) {
        if (latent == null) throw new IllegalStateException("backward() before forward()");
        pred.backward(dOut, normed, dNormed, false);
        k.zero(dres);
        norm.backward(dNormed, last, mean, rstd, dres);
        for (int i = blocks.length - 1; i >= 0; i--) blocks[i].backward(dres, scratch);
        k.copyRows(dres, rowsMasked, dMaskToken, new int[maskedCount], true);
        k.copyRows(dres, rowsToZ, dy, rowsFromY, false);
        embed.backward(dy, latent, dLatent, false);
    }
}
