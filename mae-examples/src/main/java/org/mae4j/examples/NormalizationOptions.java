package org.mae4j.examples;

import org.mae4j.data.Augment;
import picocli.CommandLine.Option;

/** --mean/--std, shared by the commands that feed images to a model (a picocli mixin). */
final class NormalizationOptions {
    @Option(names = "--mean", split = ",", description = "Normalization mean per channel (default: Fashion-MNIST's 0.2860 for 1 channel, ImageNet's for 3).")
    float[] mean;
    @Option(names = "--std", split = ",", description = "Normalization std per channel (default: Fashion-MNIST's 0.3530 for 1 channel, ImageNet's for 3).")
    float[] std;

    /** On resume: the checkpoint's normalization wins; a different --mean/--std is refused. */
    void requireSameAs(org.mae4j.config.Normalization saved, java.nio.file.Path source) {
        if (mean == null && std == null) return;
        if (mean == null || std == null || !java.util.Arrays.equals(mean, saved.mean()) || !java.util.Arrays.equals(std, saved.std())) {
            throw new IllegalArgumentException("--mean/--std differ from the normalization of " + source + " (" + saved
                    + "): a resumed run keeps it");
        }
    }

    /** base (crop and flip settings) with these statistics, or base unchanged when none were given. */
    Augment apply(Augment base) {
        if (mean == null && std == null) return base;
        if (mean == null || std == null) throw new IllegalArgumentException("--mean and --std go together");
        if (mean.length != base.channels()) {
            throw new IllegalArgumentException("--mean/--std give " + mean.length + " values but the model has " + base.channels() + " channels");
        }
        return base.withNormalization(mean, std);
    }
}
