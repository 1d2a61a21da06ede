package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.examples.viz.LossCurve;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.probe.Features;
import org.mae4j.probe.LinearProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ./mae linprobe}: how good are the pretrained features? Freezes the encoder, extracts one feature
 * vector per image (no masking), trains a linear classifier on the training split and reports top-1 accuracy
 * on the test split. {@code --random-init} gives the baseline of an untrained encoder.
 */
@Command(name = "linprobe", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Linear probe: train a linear classifier on frozen encoder features, report test accuracy.")
public final class LinprobeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @picocli.CommandLine.Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--pool", defaultValue = "cls", description = "Feature per image: cls (the reference's) or mean (of the patch tokens).")
    String pool;
    @Option(names = "--epochs", defaultValue = "30", description = "Epochs of the linear head.")
    int epochs;
    @Option(names = "--batch", defaultValue = "256", description = "Batch of the linear head and of feature extraction.")
    int batch;
    @Option(names = "--lr", defaultValue = "0.1", description = "Peak learning rate of the head (SGD, momentum 0.9, cosine).")
    double lr;
    @Option(names = "--weight-decay", defaultValue = "0", description = "L2 on the head's weights.")
    double weightDecay;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the head's initialisation and shuffling (and of --random-init).")
    long seed;
    @picocli.CommandLine.Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--out", defaultValue = "runs/linprobe", description = "Output folder: linprobe.json, linprobe-loss.png.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Features.Pool p = switch (pool) {
            case "cls" -> Features.Pool.CLS;
            case "mean" -> Features.Pool.MEAN;
            default -> throw new IllegalArgumentException("--pool must be cls or mean, got " + pool);
        };
        LinearProbe.Options opts = new LinearProbe.Options(epochs, batch, lr, weightDecay, seed);
        MaskedAutoencoder model = inputs.encoder(seed).model();
        MaeConfig cfg = model.config();
        ImageDataset train = inputs.train(cfg), test = inputs.test(cfg);
        Augment norm = normalization.apply(Augment.mae(cfg.channels()));
        long t0 = System.nanoTime();
        Features ftrain = extract("train", model, train, norm, p);
        Features ftest = extract("test", model, test, norm, p);
        double extractSeconds = (System.nanoTime() - t0) / 1e9;

        List<double[]> curve = new ArrayList<>();
        long t1 = System.nanoTime();
        LinearProbe probe = LinearProbe.train(ftrain, opts, (e, loss, acc) -> {
            curve.add(new double[] {e + 1, loss, acc});
            if ((e + 1) % 5 == 0 || e == 0 || e + 1 == epochs) {
                System.out.printf(Locale.ROOT, "head epoch %d/%d: loss %.4f, train accuracy %.2f%%%n", e + 1, epochs, loss, 100 * acc);
            }
        });
        double trainSeconds = (System.nanoTime() - t1) / 1e9;
        double trainAcc = probe.accuracy(ftrain), testAcc = probe.accuracy(ftest);
        String source = inputs.describe(seed);
        System.out.printf(Locale.ROOT, "linear probe of %s, %s features: train accuracy %.2f%%, test accuracy %.2f%% (%d train, %d test images; "
                + "features %.0f s, head %.1f s)%n", source, pool, 100 * trainAcc, 100 * testAcc, train.size(), test.size(), extractSeconds, trainSeconds);

        Files.createDirectories(out);
        ObjectNode n = JSON.createObjectNode();
        n.put("encoder", source);
        n.put("pool", pool);
        n.put("train_images", train.size());
        n.put("test_images", test.size());
        n.put("train_accuracy", trainAcc);
        n.put("test_accuracy", testAcc);
        n.put("options", opts.toString());
        n.put("feature_seconds", extractSeconds);
        var arr = n.putArray("epochs");
        for (double[] c : curve) arr.addObject().put("epoch", (int) c[0]).put("loss", c[1]).put("train_accuracy", c[2]);
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("linprobe.json").toFile(), n);
        double[] x = new double[curve.size()], y = new double[curve.size()];
        for (int i = 0; i < x.length; i++) { x[i] = curve.get(i)[0]; y[i] = curve.get(i)[1]; }
        LossCurve.write(out.resolve("linprobe-loss.png"), "linear probe (" + String.format(Locale.ROOT, "test accuracy %.2f%%", 100 * testAcc) + ")",
                "epoch", "cross-entropy", List.of(new LossCurve.Series("train loss", x, y)), false, 800, 480);
        return 0;
    }

    private Features extract(String what, MaskedAutoencoder model, ImageDataset d, Augment norm, Features.Pool p) {
        int step = Math.max(batch, d.size() / 10 / batch * batch);
        return Features.extract(model, d, norm, p, batch, done -> {
            if (done % step < batch || done == d.size()) System.out.printf(Locale.ROOT, "%s features: %d/%d%n", what, done, d.size());
        });
    }
}
