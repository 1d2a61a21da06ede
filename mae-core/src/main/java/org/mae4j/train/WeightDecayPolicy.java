package org.mae4j.train;

import org.mae4j.engine.ParamStore;

/**
 * Which tensors get weight decay: the reference MAE rule ({@code optim_factory.param_groups_weight_decay}):
 * none for 1-D tensors and biases (LayerNorm gammas and betas, all biases); decay for everything else,
 * Linear weights, the patch-embedding kernel and also {@code cls_token} / {@code mask_token} ([1,1,E]).
 * Frozen tensors (the position tables) are never updated at all.
 */
public final class WeightDecayPolicy {
    private WeightDecayPolicy() {}

    public static boolean decays(ParamStore.Entry e) {
        return e.trainable() && e.rank() > 1 && !e.name().endsWith(".bias");
    }
}
