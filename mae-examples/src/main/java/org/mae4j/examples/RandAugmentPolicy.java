package org.mae4j.examples;

import org.mae4j.config.Normalization;
import org.mae4j.data.RandAugment;

/** --aa: a timm RandAugment policy string, filled with the normalization's mean as timm does. */
final class RandAugmentPolicy {
    private RandAugmentPolicy() {}

    static final String MAE = "rand-m9-mstd0.5-inc1";

    static RandAugment parse(String policy, Normalization norm, int channels) {
        if (policy == null || policy.isBlank() || policy.equals("none")) return RandAugment.none(channels);
        try {
            return RandAugment.parse(policy, norm.mean());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--aa " + policy + ": " + e.getMessage());
        }
    }
}
