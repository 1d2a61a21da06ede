package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.ParamStore;
import org.mae4j.examples.viz.LossCurve;
import org.mae4j.finetune.FineTuneLoop;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.io.Safetensors;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code ./mae finetune}: the pretrained encoder plus a linear head on its cls token, all trained on a labeled
 * dataset; test accuracy after every epoch. Writes finetune.json, finetune-loss.png and classifier.safetensors.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Fine-tune the encoder with a classification head; report test accuracy per epoch.")
public final class FinetuneCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @picocli.CommandLine.Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--epochs", defaultValue = "5", description = "Epochs.")
    int epochs;
    @Option(names = "--batch", defaultValue = "128", description = "Images per step.")
    int batch;
    @Option(names = "--blr", defaultValue = "1e-3", description = "Base learning rate: lr = blr x batch / 256.")
    double blr;
    @Option(names = "--warmup-epochs", defaultValue = "1", description = "Epochs of linear warmup.")
    double warmupEpochs;
    @Option(names = "--smoothing", defaultValue = "0.1", description = "Label smoothing.")
    double smoothing;
    @Option(names = "--weight-decay", defaultValue = "0.05", description = "AdamW weight decay.")
    double weightDecay;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the head, data order and augmentation (and of --random-init).")
    long seed;
    @picocli.CommandLine.Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--out", defaultValue = "runs/finetune", description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Path result = out.resolve("classifier.safetensors");
        if (Files.exists(result)) throw new IllegalArgumentException(result + " already exists: choose another --out (nothing was overwritten)");
        PretrainedWeights.Loaded w = inputs.encoder(seed);
        MaeConfig cfg = w.config();
        ParamStore mae = w.params();
        ImageDataset train = inputs.train(cfg), test = inputs.test(cfg);
        int classes = Math.max(train.classNames().size(), 2);
        VitClassifier model = VitClassifier.fromEncoder(cfg, mae, classes, MaskedAutoencoder.defaultKernels(mae.dataType()), new Random(seed));
        Augment augment = normalization.apply(Augment.mae(cfg.channels()));
        FineTuneLoop.Options opts = new FineTuneLoop.Options(epochs, batch, blr, Math.min(warmupEpochs, epochs), smoothing,
                AdamW.Hyper.mae().withWeightDecay(weightDecay), seed);
        String source = inputs.describe(seed);
        System.out.printf(Locale.ROOT, "fine-tuning %s: %d classes, %d train / %d test images, lr %.3g%n", source, classes, train.size(), test.size(),
                blr * batch / 256);
        List<double[]> curve = new ArrayList<>();
        List<Double> stepLoss = new ArrayList<>();
        long t0 = System.nanoTime();
        double acc = new FineTuneLoop(model, train, test, augment, opts).run(new FineTuneLoop.Listener() {
            double rate;
            @Override public void onStep(int epoch, int step, int steps, double loss, double lr, double ips) {
                stepLoss.add(loss);
                rate = rate == 0 ? ips : 0.9 * rate + 0.1 * ips;
                if (step % Math.max(1, steps / 10) == 0 || step == steps) {
                    System.out.printf(Locale.ROOT, "epoch %d/%d step %d/%d loss %.4f lr %.3e %.0f img/s%n", epoch + 1, epochs, step, steps, loss, lr, rate);
                }
            }
            @Override public void onEpochEnd(int epoch, double loss, double testAccuracy) {
                curve.add(new double[] {epoch + 1, loss, testAccuracy});
                System.out.printf(Locale.ROOT, "epoch %d/%d: mean loss %.4f, test accuracy %.2f%%%n", epoch + 1, epochs, loss, 100 * testAccuracy);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;

        Files.createDirectories(out);
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (ParamStore.Entry e : model.params().entries()) tensors.put(e.name(), model.params().param(e.name()));
        Safetensors.write(result, tensors, Map.of("format", "pt", "producer", "mae4j " + Checkpoint.LIBRARY_VERSION, "classes", String.join(",", train.classNames())));
        ObjectNode n = JSON.createObjectNode();
        n.put("encoder", source);
        n.put("train_images", train.size());
        n.put("test_images", test.size());
        n.put("test_accuracy", acc);
        n.put("seconds", seconds);
        n.put("options", opts.toString());
        var arr = n.putArray("epochs");
        for (double[] c : curve) arr.addObject().put("epoch", (int) c[0]).put("loss", c[1]).put("test_accuracy", c[2]);
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("finetune.json").toFile(), n);
        LossCurve.write(out.resolve("finetune-loss.png"), String.format(Locale.ROOT, "fine-tuning (test accuracy %.2f%%)", 100 * acc), "step",
                "cross-entropy", List.of(LossCurve.Series.ofY("train loss", stepLoss.stream().mapToDouble(Double::doubleValue).toArray())), false, 800, 480);
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% after %d epochs (%.0f s); %s%n", 100 * acc, epochs, seconds, result);
        return 0;
    }
}
