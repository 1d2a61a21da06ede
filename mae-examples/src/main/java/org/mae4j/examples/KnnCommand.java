package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Subset;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.probe.Features;
import org.mae4j.probe.Knn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./mae knn}: weighted k-NN (k = 20, cosine similarity, votes exp(similarity / 0.07), as DINO) of the
 * test set against the frozen encoder's features of the training set; no training at all, so a cheap measure
 * of an encoder. {@code --raw-pixels} gives the pixel baseline.
 */
@Command(name = "knn", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Weighted k-NN classification of the test set on frozen encoder features (or raw pixels).")
public final class KnnCommand implements Callable<Integer> {
    @Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--raw-pixels", description = "Use the normalized pixels instead of encoder features (the baseline).")
    boolean rawPixels;
    @Option(names = "--pool", defaultValue = "cls", description = "Feature per image: cls or mean (of the patch tokens).")
    String pool;
    @Option(names = "--k", defaultValue = "20", description = "Neighbours per query.")
    int k;
    @Option(names = "--temperature", defaultValue = "0.07", description = "Temperature of the votes exp(similarity / T).")
    double temperature;
    @Option(names = "--knn-train", defaultValue = "0", description = "Use the first N training images as the neighbours (0 = all).")
    int knnTrain;
    @Mixin
    LabelOptions labels = new LabelOptions();
    @Option(names = "--seed", defaultValue = "0", description = "Seed of --random-init.")
    long seed;
    @Option(names = "--batch", defaultValue = "256", description = "Images per encoder pass.")
    int batch;
    @Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--out", description = "Also write the result as JSON to this file.")
    Path out;
    @Option(names = "--force", description = "Replace an existing --out file.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (out != null) inputs.outputs(force).file("--out", out);
        Features.Pool p = Features.Pool.parse("--pool", pool);
        if (k < 1) throw new IllegalArgumentException("--k must be >= 1, got " + k);   // before the library's check, to name the flag
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        Knn knn = new Knn(k, temperature);
        if (knnTrain < 0) throw new IllegalArgumentException("--knn-train must be >= 0, got " + knnTrain);
        labels.amount();   // a bad --labels is refused before the weights load
        if (labels.given() && knnTrain > 0) throw new IllegalArgumentException("--knn-train and --labels both choose the neighbours: give one");
        MaskedAutoencoder model = null;
        MaeConfig cfg;
        String source;
        if (rawPixels) {
            cfg = MaeConfig.preset(inputs.preset);
            source = "raw pixels";
        } else {
            PretrainedWeights.Loaded w = inputs.featureEncoder(seed);
            Finite.requireWeights(w.params(), inputs.describe(seed));
            model = w.model();
            cfg = w.config();
            source = inputs.describe(seed);
        }
        ImageDataset train = inputs.train(cfg), test = inputs.test(cfg, train.classNames());
        if (knnTrain > 0 && knnTrain < train.size()) train = new Subset(train, knnTrain);
        train = labels.labelled(train, train.size());   // the neighbours: the labelled images only
        Augment norm = normalization.apply(Augment.mae(cfg.channels()));
        long t0 = System.nanoTime();
        Features ftrain = model == null ? Features.pixels(train, norm) : Features.extract(model, train, norm, p, batch, null);
        Features ftest = model == null ? Features.pixels(test, norm) : Features.extract(model, test, norm, p, batch, null);
        double featureSeconds = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        Knn.Score s = knn.score(ftrain, ftest);
        double knnSeconds = (System.nanoTime() - t1) / 1e9;
        System.out.printf(Locale.ROOT, "%d-NN (T %s) of %s, %s features: test top-1 %.2f%%, top-5 %.2f%% (%d neighbours, %d queries; features %.0f s, kNN %.0f s)%n",
                k, temperature, source, rawPixels ? "raw-pixel" : pool, 100 * s.top1(), 100 * s.top5(), ftrain.n(), ftest.n(), featureSeconds, knnSeconds);
        if (out != null) {
            Map<String, Object> result = new java.util.LinkedHashMap<>(Map.of("encoder", source, "features", rawPixels ? "raw-pixels" : pool, "k", k, "temperature", temperature,
                    "train_images", ftrain.n(), "test_images", ftest.n(), "test_top1", s.top1(), "test_top5", s.top5(),
                    "feature_seconds", featureSeconds, "knn_seconds", knnSeconds));
            result.putAll(labels.json());
            Json.write(out, result);
        }
        return 0;
    }
}
