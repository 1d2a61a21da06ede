package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.FiniteDifferences;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written backward of the whole model against central finite differences, in double precision on
 * the portable kernels, for the micro config (both loss variants). Every trainable tensor is probed at
 * several elements: |numeric - analytic| / max(|numeric| + |analytic|, 1e-4) < 1e-5 (the floor keeps
 * round-off on near-zero entries, ~1e-10 with h = 1e-6, from counting). Frozen tensors must get no gradient.
 */
class GradientCheckTest {

    @Test
    void plainLossGradientsMatchFiniteDifferences() { check(MaeConfig.micro().withNormPixLoss(false), 11); }

    @Test
    void normPixLossGradientsMatchFiniteDifferences() { check(MaeConfig.micro().withNormPixLoss(true), 12); }

    private static void check(MaeConfig cfg, long seed) {
        Random rng = new Random(seed);
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.DOUBLE, new Nd4jKernels(), rng);
        ParamStore store = mae.params();
        // Non-zero biases and non-unit gammas, so that every term of the backward is exercised.
        for (ParamStore.Entry e : store.entries()) {
            if (e.trainable() && e.rank() == 1) store.param(e.name()).assign(FiniteDifferences.gaussian(rng, e.shape()).muli(0.12).addi(e.name().endsWith("weight") ? 1 : 0));
        }
        int n = 2;
        INDArray images = FiniteDifferences.gaussian(rng, n, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        MaskSample mask = RandomMasking.sample(n, cfg.numPatches(), cfg.maskRatio(), rng);

        mae.forward(images, mask);
        store.zeroGrad();
        mae.backward();
        INDArray analytic = store.flatGrads().dup();

        FiniteDifferences.Result r = FiniteDifferences.check(store, analytic, () -> mae.forward(images, mask).loss(), 4, 1e-4, rng);
        double worst = r.worst();
        String worstAt = r.at();
        System.out.printf("gradient check (%s): worst relative error %.2e at %s%n", cfg.normPixLoss() ? "norm-pix" : "plain", worst, worstAt);
        assertTrue(worst < 1e-5, "worst relative error " + worst + " at " + worstAt);
    }
}
