package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Split;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.probe.Features;
import org.mae4j.probe.LinearProbing;
import org.mae4j.probe.ProbeData;
import org.mae4j.probe.ProbeHead;
import org.mae4j.train.Lars;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code ./mae linprobe}: the reference's linear probing on the training engine: the encoder frozen, its
 * features (the cls token after the final norm) into a BatchNorm (no affine) + linear head trained with LARS,
 * warmup + cosine; test top-1/top-5 at the end. {@code --raw-pixels} probes the normalized pixels instead (the
 * baseline every encoder must beat), {@code --random-init} an untrained encoder.
 */
@Command(name = "linprobe", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Linear probe (the reference protocol: BatchNorm + linear head, LARS): frozen encoder features, test accuracy.")
public final class LinprobeCommand implements Callable<Integer>, TrainingCommand {
    @Spec CommandSpec spec;
    @Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--raw-pixels", description = "Probe the normalized pixels instead of encoder features (the baseline).")
    boolean rawPixels;
    @Option(names = "--pool", defaultValue = "cls", description = "Feature per image: cls (the reference's) or mean (of the patch tokens).")
    String pool;
    @Option(names = "--features-from-blocks", defaultValue = "1", description = "Concatenate the pooled tokens of the last K blocks (K > 1 is not the reference protocol).")
    int blocks;
    @Option(names = "--augment", description = "Re-extract features of randomly cropped and flipped images every epoch, as the reference (one encoder pass per epoch: slow).")
    boolean augment;
    @Option(names = "--epochs", defaultValue = "90", description = "Epochs of the head (the reference's).")
    int epochs;
    @Option(names = "--warmup-epochs", defaultValue = "10", description = "Epochs of linear warmup (the reference's).")
    double warmupEpochs;
    @Option(names = "--batch", defaultValue = "512", description = "Features per step (the reference's per-GPU batch).")
    int batch;
    @Option(names = "--blr", defaultValue = "0.1", description = "Base learning rate: lr = blr x effective batch / 256.")
    double blr;
    @Option(names = "--min-lr", defaultValue = "0", description = "Lower bound of the cosine schedule.")
    double minLr;
    @Option(names = "--weight-decay", defaultValue = "0", description = "LARS weight decay (the reference: none).")
    double weightDecay;
    @Option(names = "--val-fraction", defaultValue = "0", description = "Fraction of the training data held out to score each epoch and keep the best (0: all images train, as the reference).")
    double valFraction;
    @Mixin
    LabelOptions labels = new LabelOptions();
    @Option(names = "--extract-batch", defaultValue = "256", description = "Images per encoder pass when extracting features.")
    int extractBatch;
    @Mixin
    RunOptions run = new RunOptions();
    @Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--out", defaultValue = "runs/linprobe", description = "Output folder: checkpoint.zip (the head), metrics.jsonl, linprobe.json.")
    Path out;

    @Override public Path out() { return out; }
    /** The files it writes into --out beside RunFolder's. */
    private static final java.util.regex.Pattern FILES = java.util.regex.Pattern.compile("linprobe\\.json");

    @Override public List<String> args() { return spec.root().commandLine().getParseResult().originalArgs(); }

    @Override
    public Integer call() throws IOException {
        // the default warmup is cut to a shorter run's --epochs; a warmup given that long is a mistake to say, not to cut
        if (run.resume == null && spec.commandLine().getParseResult().hasMatchedOption("--warmup-epochs") && warmupEpochs > epochs) {
            throw new IllegalArgumentException("--warmup-epochs " + warmupEpochs + " is longer than the run (--epochs " + epochs + ")");
        }
        inputs.outputs(false).input("--resume", run.resume).runFolder("--out", out, "linprobe", run.resume, FILES);
        Features.Pool p = Features.Pool.parse("--pool", pool);
        Resumed resumed = null;
        if (run.resume != null) {
            resumed = new Resumed(org.mae4j.mae.ConfigFit.loadCheckpoint(run.resume), spec.commandLine().getParseResult(), run.changeSchedule, run.resume);
            if (!resumed.checkpoint().kind().equals("linprobe")) throw new IllegalArgumentException("--resume " + run.resume + " is a " + resumed.checkpoint().kind() + " checkpoint, not a linear probe");
            run.seed = resumed.identity("--seed", "seed", run.seed);
            batch = resumed.identity("--batch", "batch", batch);
            run.accum = resumed.identity("--accum", "accum", run.accum);
            inputs.data = resumed.identity("--data", "data", inputs.data);
            inputs.limit = resumed.identity("--limit", "limit", inputs.limit);
            pool = resumed.identity("--pool", "pool", pool);
            blocks = resumed.identity("--features-from-blocks", "blocks", blocks);
            valFraction = resumed.identity("--val-fraction", "val_fraction", valFraction);
            labels.resume(resumed);
            weightDecay = resumed.identity("--weight-decay", "weight_decay", weightDecay);
            augment = Boolean.parseBoolean(resumed.identity("--augment", "augment", Boolean.toString(augment)));
            rawPixels = Boolean.parseBoolean(resumed.identity("--raw-pixels", "raw_pixels", Boolean.toString(rawPixels)));
            epochs = resumed.schedule("--epochs", "epochs", epochs);
            blr = resumed.schedule("--blr", "blr", blr);
            minLr = resumed.schedule("--min-lr", "min_lr", minLr);
            warmupEpochs = resumed.schedule("--warmup-epochs", "warmup_epochs", warmupEpochs);
            String encoder = resumed.checkpoint().provenance().get("encoder_weights");
            if (encoder != null && !rawPixels && inputs.weights == null && !inputs.randomInit) {
                if (encoder.startsWith("random-init:")) inputs.randomInit = true;
                else inputs.weights = Path.of(encoder);
            }
        }
        labels.amount();   // a bad --labels is refused before the weights load
        if (rawPixels && (augment || blocks != 1)) throw new IllegalArgumentException("--raw-pixels takes no --augment or --features-from-blocks");
        if (rawPixels && (inputs.weights != null || inputs.randomInit)) {
            throw new IllegalArgumentException("--raw-pixels probes the pixels, not an encoder: give no --weights or --random-init");
        }
        if (extractBatch < 1) throw new IllegalArgumentException("--extract-batch must be >= 1, got " + extractBatch);
        MaeConfig cfg;
        MaskedAutoencoder model = null;
        String source;
        if (rawPixels) {
            cfg = MaeConfig.preset(inputs.preset);
            source = "raw pixels";
        } else {
            PretrainedWeights.Loaded w = inputs.featureEncoder(run.seed);
            Finite.requireWeights(w.params(), inputs.describe(run.seed));
            model = w.model();
            cfg = w.config();
            source = inputs.describe(run.seed);
        }
        ImageDataset all = inputs.train(cfg), test = inputs.test(cfg, all.classNames());
        Split[] parts = valFraction > 0 ? labels.holdOut(all, valFraction, run.seed) : null;
        // features of the labelled images only are extracted: a 1% probe reads 600 images, not 60,000
        ImageDataset train = labels.labelled(parts == null ? all : parts[0], all.size());
        Augment norm = normalization.apply(Augment.mae(cfg.channels()));
        long t0 = System.nanoTime();
        Features ftest = features("test", model, test, norm, p);
        Features fval = parts == null ? null : features("validation", model, parts[1], norm, p);
        TrainData data;
        int d;
        if (augment) {
            // the reference's probe augmentation: RandomResizedCrop (scale 0.08-1) + horizontal flip
            Augment crop = new Augment(0.08, 1, 3.0 / 4, 4.0 / 3, true, norm.mean(), norm.std());
            data = ProbeData.augmented(model, train, crop, p, blocks, extractBatch);
            d = blocks * cfg.encoder().width();
        } else {
            Features ftrain = features("train", model, train, norm, p);
            data = ProbeData.fixed(ftrain);
            d = ftrain.d();
        }
        double extractSeconds = (System.nanoTime() - t0) / 1e9;
        int classes = Math.max(all.classNames().size(), 2);
        ProbeHead head;
        if (resumed != null) {
            head = new ProbeHead(resumed.checkpoint().params());
            if (head.featureDim() != d || head.classes() != classes) {
                throw new IllegalArgumentException("--resume " + run.resume + " holds a head for " + head.featureDim() + " features and " + head.classes()
                        + " classes, these features have " + d + " and the data " + classes);
            }
        } else {
            head = new ProbeHead(ProbeHead.create(d, classes, DataType.FLOAT, new Random(run.seed)));
        }
        Lars optimizer = new Lars(head.store(), Lars.Hyper.reference().withWeightDecay(weightDecay));
        TrainingState start = resumed == null ? TrainingState.start(run.seed) : Trainer.restore(optimizer, resumed.checkpoint(), run.resume);
        Trainer.Options options = new Trainer.Options(epochs, batch, run.accum, blr, minLr, Math.min(warmupEpochs, epochs), run.seed,
                run.saveEvery, run.maxSteps, 0);
        Map<String, String> recipe = new LinkedHashMap<>();
        recipe.put("data", inputs.data);
        recipe.put("limit", Integer.toString(inputs.limit));
        recipe.put("pool", pool);
        recipe.put("blocks", Integer.toString(blocks));
        recipe.put("val_fraction", Double.toString(valFraction));
        recipe.put("weight_decay", Double.toString(weightDecay));
        recipe.put("augment", Boolean.toString(augment));
        recipe.put("raw_pixels", Boolean.toString(rawPixels));
        recipe.putAll(labels.recorded());
        org.mae4j.engine.Kernels kernels = model == null ? MaskedAutoencoder.defaultKernels(DataType.FLOAT) : model.kernels();
        Map<String, String> provenance = Provenance.of("linprobe", kernels);
        provenance.put("data", all.toString());
        provenance.put("encoder", source);
        provenance.putAll(labels.recorded());
        if (!rawPixels) provenance.put("encoder_weights", inputs.randomInit ? "random-init:" + inputs.preset : inputs.weights.toAbsolutePath().toString());
        Map<String, String> describe = Map.of("features", rawPixels ? "raw-pixels" : pool, "blocks", Integer.toString(blocks));
        System.out.printf(Locale.ROOT, "linear probe of %s: %d-d features, %d classes, %d train / %s%d test images (features %.0f s), lr %.3g%n",
                source, d, classes, train.size(), fval == null ? "" : fval.n() + " validation / ", test.size(), extractSeconds, options.absoluteLr());
        try (RunFolder folder = RunFolder.open(out, resumed == null ? null : start, Provenance.startRow(provenance))) {
            if (resumed != null) folder.restoreBest(resumed.checkpoint().provenance());
            Trainer trainer = new Trainer(new LinearProbing(head, cfg, kernels, describe), optimizer, data, options)
                    .run(folder).describe(new Normalization(norm.mean(), norm.std()), provenance, recipe)
                    .listen(new Progress(System.out, System.console() != null, epochs));
            if (fval != null) trainer.evaluate(e -> {
                ProbeHead.Score s = head.evaluate(fval);
                return Map.of("val_top1", s.top1(), "val_top5", s.top5());
            }, "val_top1");
            int code = TrainingCommand.train(trainer, start, this, "linprobe");
            if (code != 0) return code;
            if (TrainingState.of(org.mae4j.mae.ConfigFit.loadCheckpoint(folder.checkpoint()).state()).epoch() < epochs) return 0;   // stopped early: no test score yet
            Path chosen = fval != null && java.nio.file.Files.exists(folder.best()) ? folder.best() : folder.checkpoint();
            ProbeHead scored = new ProbeHead(org.mae4j.mae.ConfigFit.loadCheckpoint(chosen).params());
            ProbeHead.Score s = scored.evaluate(ftest);
            folder.metrics().row("test", Map.of("checkpoint", chosen.getFileName().toString(), "test_top1", s.top1(), "test_top5", s.top5()));
            System.out.printf(Locale.ROOT, "linear probe of %s (%s features): test top-1 %.2f%%, top-5 %.2f%% (%d test images, head %s)%n",
                    source, rawPixels ? "raw-pixel" : pool, 100 * s.top1(), 100 * s.top5(), test.size(), chosen.getFileName());
            Map<String, Object> result = new LinkedHashMap<>(Map.of("encoder", source, "features", rawPixels ? "raw-pixels" : pool, "blocks", blocks,
                    "train_images", train.size(), "test_images", test.size(), "test_top1", s.top1(), "test_top5", s.top5(),
                    "feature_seconds", extractSeconds, "checkpoint", chosen.toString()));
            result.putAll(labels.json());
            Json.write(out.resolve("linprobe.json"), result);
        }
        return 0;
    }

    private Features features(String what, MaskedAutoencoder model, ImageDataset d, Augment norm, Features.Pool p) {
        if (model == null) return Features.pixels(d, norm);
        int step = Math.max(extractBatch, d.size() / 10 / extractBatch * extractBatch);
        return Features.extract(model, d, norm, p, blocks, extractBatch, done -> {
            if (done % step < extractBatch || done == d.size()) System.out.printf(Locale.ROOT, "%s features: %d/%d%n", what, done, d.size());
        });
    }
}
