package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * The reference's initialisation: Xavier-uniform for every Linear weight and for the patch-embedding kernel
 * viewed as [D, C*p*p]; biases 0; LayerNorm gamma 1, beta 0; cls and mask tokens N(0, 0.02^2); the fixed
 * sin-cos position tables. Randomness comes from the caller's generator.
 */
public final class MaeInit {
    private MaeInit() {}

    public static void initialize(ParamStore store, MaeConfig cfg, Random rng) {
        for (ParamStore.Entry e : store.entries()) {
            String name = e.name();
            long[] s = e.shape();
            INDArray v;
            if (name.equals("pos_embed")) {
                v = SinCosPosEmbed.table(cfg.encoder().width(), cfg.gridSize(), store.dataType()).reshape(s);
            } else if (name.equals("decoder_pos_embed")) {
                v = SinCosPosEmbed.table(cfg.decoder().width(), cfg.gridSize(), store.dataType()).reshape(s);
            } else if (name.equals("cls_token") || name.equals("mask_token")) {
                double[] d = new double[(int) e.length()];
                for (int i = 0; i < d.length; i++) d[i] = 0.02 * rng.nextGaussian();
                v = Nd4j.createFromArray(d).reshape(s);
            } else if (name.endsWith(".bias")) {
                v = Nd4j.zeros(s);
            } else if (e.rank() == 1) {          // LayerNorm gamma
                v = Nd4j.ones(s);
            } else {                             // Linear [out, in] or conv [D, C, p, p]: fan_out = s[0], fan_in = rest
                int fanOut = (int) s[0], fanIn = (int) (e.length() / s[0]);
                double bound = Math.sqrt(6.0 / (fanIn + fanOut));
                double[] d = new double[(int) e.length()];
                for (int i = 0; i < d.length; i++) d[i] = (2 * rng.nextDouble() - 1) * bound;
                v = Nd4j.createFromArray(d).reshape(s);
            }
            store.set(name, v.castTo(store.dataType()));
        }
    }
}
