package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.ClassNames;
import org.mae4j.data.ImageDataset;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.mae.MaskedAutoencoder;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * What linprobe and finetune both start from (a picocli mixin): an encoder (trained weights, or a fresh one for
 * the baseline) and a labeled training and test set.
 */
final class EncoderAndData {
    @Option(names = "--weights", description = "Pretrained weights (checkpoint .zip, .safetensors, HuggingFace folder, .npy folder); encoder-only is fine.")
    Path weights;
    @Option(names = "--random-init", description = "Use a freshly initialised encoder of --preset instead (the baseline).")
    boolean randomInit;
    @Option(names = "--preset", defaultValue = "tinyFmnist", description = "Model config for --random-init and for weights that carry none.",
            completionCandidates = PretrainCommand.Presets.class)
    String preset;
    @Option(names = "--data", defaultValue = Datasets.FASHION_MNIST, description = "Labeled training data, as for pretrain --data.")
    String data;
    @Option(names = "--test-data", description = "Labeled test data (default: the test split of --data for Fashion-MNIST; required for image folders).")
    String testData;
    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N training and N test images (0 = all).")
    int limit;
    @Option(names = "--on-bad-image", defaultValue = "skip", description = Datasets.ON_BAD_IMAGE)
    org.mae4j.data.BadImagePolicy onBadImage;

    /** The claims of a command that reads these inputs (its outputs are checked against them). */
    Outputs outputs(boolean force) {
        return Outputs.of(force).input("--weights", weights).data("--data", data).data("--test-data", testData);
    }

    /** The encoder's config and MAE parameters; --random-init draws them from seed. */
    PretrainedWeights.Loaded encoder(long seed) throws IOException {
        if ((weights == null) == !randomInit) throw new IllegalArgumentException("give exactly one of --weights and --random-init");
        if (!randomInit) return PretrainedWeights.load(weights, MaeConfig.preset(preset));
        MaeConfig cfg = MaeConfig.preset(preset);
        return new PretrainedWeights.Loaded(cfg, MaskedAutoencoder.create(cfg, new Random(seed)).params(), true);
    }

    /** The encoder of k-NN and the probe: as {@link #encoder}, refusing a fine-tuned classifier (PretrainedWeights.loadForFeatures). */
    PretrainedWeights.Loaded featureEncoder(long seed) throws IOException {
        if (!randomInit && weights != null) return PretrainedWeights.loadForFeatures(weights, MaeConfig.preset(preset));
        return encoder(seed);
    }

    /** For reports: the weights file, or the baseline's preset and seed. */
    String describe(long seed) {
        return randomInit ? "random init (" + preset + ", seed " + seed + ")" : weights.toString();
    }

    /** The labeled training set; one with a single class is refused (every answer would be right). */
    ImageDataset train(MaeConfig cfg) throws IOException {
        ImageDataset d = Datasets.open(data, cfg.channels(), cfg.imageSize(), true, limit, onBadImage);
        ClassNames.requireClassifiable(d, "--data " + data);
        return d;
    }

    /**
     * The test set, its labels as indices into trainClasses (the training set's, or a saved classifier's class
     * names); a class that trainClasses lack is refused here, before any training.
     */
    ImageDataset test(MaeConfig cfg, List<String> trainClasses) throws IOException {
        String spec = Datasets.testSpec(data, testData);
        return ClassNames.alignTo(trainClasses, Datasets.open(spec, cfg.channels(), cfg.imageSize(), false, limit, onBadImage), "--test-data " + spec);
    }
}
