package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Split;
import org.mae4j.data.Subset;
import org.mae4j.probe.Features;
import org.mae4j.probe.Knn;
import org.mae4j.probe.KnnEvaluation;
import org.mae4j.engine.Kernels;
import org.mae4j.examples.viz.LossCurve;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.Pretraining;
import org.mae4j.train.AdamW;
import org.mae4j.train.Collective;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * {@code ./mae pretrain}: MAE pretraining with the reference recipe on the training engine. Writes into
 * {@code --out}: checkpoint.zip (every --save-every epochs, at the end, and when stopped), metrics.jsonl,
 * loss.png, and recon-epoch-NNN.png (the same images, the same mask, every epoch).
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Pretrain a masked autoencoder (default: tinyFmnist on the embedded Fashion-MNIST).")
public final class PretrainCommand implements Callable<Integer>, TrainingCommand {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainCommand.class);
    static final String CHECKPOINT = RunFolder.CHECKPOINT, METRICS = RunFolder.METRICS, LOSS_PNG = "loss.png";
    /** The files it writes into --out beside RunFolder's. */
    private static final java.util.regex.Pattern FILES = java.util.regex.Pattern.compile("loss\\.png|recon-init\\.png|recon-epoch-\\d+\\.png");

    @Spec CommandSpec spec;
    @Option(names = "--preset", defaultValue = "tinyFmnist", description = "Model preset: ${COMPLETION-CANDIDATES}.",
            completionCandidates = Presets.class)
    String preset;
    @Option(names = "--data", defaultValue = Datasets.FASHION_MNIST,
            description = "'fashion-mnist' (embedded), a folder of Fashion-MNIST idx files, or an image folder (class subfolders or flat).")
    String data;
    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N images (0 = all).")
    int limit;
    @Option(names = "--on-bad-image", defaultValue = "skip", description = Datasets.ON_BAD_IMAGE)
    org.mae4j.data.BadImagePolicy onBadImage;
    @Option(names = "--out", defaultValue = "runs/pretrain", description = "Output folder.")
    Path out;
    @Option(names = "--epochs", defaultValue = "20", description = "Total epochs.")
    int epochs;
    @Option(names = "--batch", defaultValue = "256", description = "Images per step.")
    int batch;
    @Option(names = "--blr", defaultValue = "1.5e-4", description = "Base learning rate: lr = blr x effective batch / 256.")
    double blr;
    @Option(names = "--min-lr", defaultValue = "0", description = "Lower bound of the cosine schedule.")
    double minLr;
    @Option(names = "--warmup-epochs", description = "Epochs of linear warmup (default: 2, at most --epochs).")
    Double warmupEpochs;
    @Option(names = "--weight-decay", defaultValue = "0.05", description = "AdamW weight decay.")
    double weightDecay;
    @Option(names = "--mask-ratio", description = "Fraction of patches hidden (default: the preset's, 0.75).")
    Double maskRatio;
    @Option(names = "--norm-pix-loss", arity = "0..1", fallbackValue = "true",
            description = "Predict per-patch normalized pixels (the paper's best setting); --norm-pix-loss=false for raw pixels (default: the preset's).")
    Boolean normPixLoss;
    @Mixin
    RunOptions run = new RunOptions();
    @Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Mixin
    DistributedOptions dist = new DistributedOptions();
    @Option(names = "--viz-images", defaultValue = "8", description = "Images in each epoch's reconstruction picture (0 = none).")
    int vizImages;
    @Option(names = "--knn-every", defaultValue = "0", description = "Every N epochs and at the end, score a weighted k-NN (k 20, T 0.07, --knn-pool features) "
            + "of a held-out tenth of the training images (the finetune --val-fraction 0.1 split of the same --seed), and of the test set at the end; "
            + "logged to metrics.jsonl and drawn under the loss (0 = never).")
    int knnEvery;
    @Option(names = "--knn-train", defaultValue = "0", description = "With --knn-every: the neighbours are the first N of the other training images (0 = all: slower).")
    int knnTrain;
    @Option(names = "--knn-pool", defaultValue = "cls", description = "With --knn-every: the feature per image, cls or mean (of the patch tokens: "
            + "the usual read-out of an MAE encoder, whose cls token gets no direct training signal).")
    String knnPool;
    @Option(names = "--test-data", description = "With --knn-every: labeled test data (default: the test split of --data for Fashion-MNIST; none for an image folder).")
    String testData;

    @Override public Path out() { return out; }
    @Override public List<String> args() { return spec.root().commandLine().getParseResult().originalArgs(); }

    @Override
    public Integer call() throws IOException {
        if (vizImages < 0) throw new IllegalArgumentException("--viz-images must be >= 0, got " + vizImages);
        if (knnEvery < 0) throw new IllegalArgumentException("--knn-every must be >= 0, got " + knnEvery);
        if (knnTrain < 0) throw new IllegalArgumentException("--knn-train must be >= 0, got " + knnTrain);
        if (knnEvery == 0 && (knnTrain != 0 || testData != null || !knnPool.equals("cls"))) {
            throw new IllegalArgumentException("--knn-train, --knn-pool and --test-data need --knn-every");
        }
        Features.Pool.parse("--knn-pool", knnPool);   // a bad word is refused before any work
        dist.validate();
        if ((dist.workers > 0 || dist.isRank()) && knnEvery > 0) {
            throw new IllegalArgumentException("--knn-every is not available in data-parallel training yet: score the checkpoint with ./mae knn");
        }
        if (Outputs.writer(dist)) {
            Outputs.of(false).data("--data", data).data("--test-data", testData).input("--resume", run.resume).runFolder("--out", out, "pretrain", run.resume, FILES);
        }
        return dist.run(spec.root().commandLine().getParseResult().originalArgs(), this::train);
    }

    private int train(Collective collective) throws IOException {
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        MaskedAutoencoder model;
        Resumed resumed = null;
        if (run.resume != null) {
            resumed = new Resumed(org.mae4j.mae.ConfigFit.loadCheckpoint(run.resume), spec.commandLine().getParseResult(), run.changeSchedule, run.resume);
            Checkpoint.Contents c = resumed.checkpoint();
            if (!c.kind().equals("pretrain")) throw new IllegalArgumentException("--resume " + run.resume + " is a " + c.kind() + " checkpoint, not a pretraining run");
            model = new MaskedAutoencoder(c.config(), c.params(), kernels);
            resumed.requireSame("--preset", "the model", c.config(), withOverrides(MaeConfig.preset(preset)));
            if (maskRatio != null) resumed.requireSame("--mask-ratio", "mask ratio", c.config().maskRatio(), maskRatio);
            if (normPixLoss != null) resumed.requireSame("--norm-pix-loss", "norm-pix-loss", c.config().normPixLoss(), normPixLoss);
            run.seed = resumed.identity("--seed", "seed", run.seed);
            batch = resumed.identity("--batch", "batch", batch);
            run.accum = resumed.identity("--accum", "accum", run.accum);
            data = resumed.identity("--data", "data", data);
            limit = resumed.identity("--limit", "limit", limit);
            weightDecay = resumed.identity("--weight-decay", "weight_decay", weightDecay);
            epochs = resumed.schedule("--epochs", "epochs", epochs);
            blr = resumed.schedule("--blr", "blr", blr);
            minLr = resumed.schedule("--min-lr", "min_lr", minLr);
            warmupEpochs = resumed.schedule("--warmup-epochs", "warmup_epochs", warmupEpochs != null ? warmupEpochs : Math.min(2.0, epochs));
            if (c.normalization() != null) normalization.requireSameAs(c.normalization(), run.resume);
        } else {
            model = MaskedAutoencoder.create(withOverrides(MaeConfig.preset(preset)), DataType.FLOAT, kernels, new Random(run.seed));
        }
        MaeConfig cfg = model.config();
        ImageDataset dataset = Datasets.open(data, cfg.channels(), cfg.imageSize(), true, limit, onBadImage);
        Augment augment = resumed != null && resumed.checkpoint().normalization() != null
                ? Augment.mae(cfg.channels()).withNormalization(resumed.checkpoint().normalization().mean(), resumed.checkpoint().normalization().std())
                : normalization.apply(Augment.mae(cfg.channels()));
        AdamW optimizer = new AdamW(model.params(), kernels, AdamW.Hyper.mae().withWeightDecay(weightDecay));
        TrainingState start = resumed == null ? TrainingState.start(run.seed) : Trainer.restore(optimizer, resumed.checkpoint(), run.resume);
        if (resumed != null) LOG.info("resuming {} at epoch {}, step {}", run.resume, start.epoch() + 1, start.step());
        Trainer.Options options = new Trainer.Options(epochs, batch, run.accum, blr, minLr,
                warmupEpochs != null ? warmupEpochs : Math.min(2.0, epochs), run.seed, run.saveEvery, run.maxSteps, 0);

        Map<String, String> recipe = new LinkedHashMap<>();
        recipe.put("data", data);
        recipe.put("limit", Integer.toString(limit));
        recipe.put("weight_decay", Double.toString(weightDecay));
        Map<String, String> provenance = Provenance.of("pretrain", kernels);
        provenance.put("data", dataset.toString());
        if (dataset instanceof org.mae4j.data.ImageFolder f) provenance.put("skipped_images", Integer.toString(f.skipped().size()));
        if (knnEvery > 0) provenance.put("knn_pool", knnPool);
        Normalization norm = new Normalization(augment.mean(), augment.std());
        LOG.info("model {}: {} parameters; data {}; output {}", cfg, model.params().numTrainable(), dataset, out.toAbsolutePath());

        // built before the folder is touched: a batch that cannot fit is refused with nothing written
        Trainer trainer = new Trainer(new Pretraining(model), optimizer, TrainData.images(dataset, augment), options).describe(norm, provenance, recipe)
                .distributed(collective);
        if (knnEvery > 0) trainer.evaluate(knnMonitor(model, dataset, augment)::at, null);
        // only rank 0 writes (checkpoints, metrics, pictures) and shows progress
        if (collective.rank() != 0) return TrainingCommand.train(trainer, start, this, "pretrain");
        try (RunFolder folder = RunFolder.open(out, resumed == null ? null : start, Provenance.startRow(provenance))) {
            Visualizer viz = vizImages == 0 ? null
                    : Visualizer.ofDataset(cfg, model.params(), kernels, dataset, Visualizer.firstIndices(dataset, vizImages), augment);
            Pictures pictures = new Pictures(folder, viz, run.seed);
            Progress progress = new Progress(System.out, System.console() != null, epochs);
            if (viz != null && start.step() == 0) viz.write(out.resolve("recon-init.png"), run.seed);
            trainer.run(folder).listen(Listeners.both(progress, pictures));
            return TrainingCommand.train(trainer, start, this, "pretrain");
        }
    }

    /** --knn-every's evaluation: queries are the held-out tenth, neighbours the (first --knn-train of the) rest. */
    private KnnMonitor knnMonitor(MaskedAutoencoder model, ImageDataset dataset, Augment augment) throws IOException {
        if (!dataset.hasLabels()) throw new IllegalArgumentException("--knn-every needs labeled --data; " + dataset + " has none");
        org.mae4j.data.ClassNames.requireClassifiable(dataset, "--data " + data);
        Split[] parts = Split.holdOut(dataset, KNN_VAL_FRACTION, run.seed);
        ImageDataset bank = knnTrain > 0 && knnTrain < parts[0].size() ? new Subset(parts[0], knnTrain) : parts[0];
        String testSpec = testData != null || Datasets.hasTestSplit(data) ? Datasets.testSpec(data, testData) : null;
        ImageDataset test = testSpec == null ? null : org.mae4j.data.ClassNames.alignTo(dataset.classNames(),
                Datasets.open(testSpec, dataset.channels(), dataset.imageSize(), false, limit, onBadImage), "--test-data " + testSpec);
        LOG.info("k-NN ({} features) every {} epochs: {} neighbours, {} queries{}", knnPool, knnEvery, bank.size(), parts[1].size(),
                test == null ? "; no test set (give --test-data)" : "; the test set (" + test.size() + ") at the end");
        return new KnnMonitor(new KnnEvaluation(bank, parts[1], augment, Features.Pool.parse("--knn-pool", knnPool), Knn.dino(), 256), test, model,
                knnEvery, epochs);
    }

    static final double KNN_VAL_FRACTION = 0.1;

    /** Scores the validation queries every {@code every} epochs and at the last one, and the test set at the last. */
    private record KnnMonitor(KnnEvaluation val, ImageDataset test, MaskedAutoencoder model, int every, int epochs) {
        Map<String, Double> at(int epoch) {
            boolean last = epoch + 1 == epochs;
            if ((epoch + 1) % every != 0 && !last) return Map.of();
            Map<String, Double> m = new LinkedHashMap<>();
            KnnEvaluation.Result v = val.score(model);
            m.put("knn_val_top1", v.score().top1());
            m.put("knn_val_top5", v.score().top5());
            double seconds = v.seconds();
            if (last && test != null) {
                KnnEvaluation.Result t = val.withQueries(test).score(model);
                m.put("knn_test_top1", t.score().top1());
                m.put("knn_test_top5", t.score().top5());
                seconds += t.seconds();
            }
            m.put("knn_seconds", seconds);
            LOG.info("epoch {}: k-NN validation top-1 {}%{} ({} s)", epoch + 1, String.format(Locale.ROOT, "%.2f", 100 * v.score().top1()),
                    m.containsKey("knn_test_top1") ? String.format(Locale.ROOT, ", test top-1 %.2f%%", 100 * m.get("knn_test_top1")) : "",
                    String.format(Locale.ROOT, "%.0f", seconds));
            return m;
        }
    }

    private MaeConfig withOverrides(MaeConfig cfg) {
        if (maskRatio != null) cfg = cfg.withMaskRatio(maskRatio);
        if (normPixLoss != null) cfg = cfg.withNormPixLoss(normPixLoss);
        return cfg;
    }

    /** loss.png (with the k-NN accuracy below it under --knn-every) and the reconstruction pictures, redrawn from metrics.jsonl's history at every epoch end. */
    private static final class Pictures implements Trainer.Listener {
        private static final String KNN_KEY = "knn_val_top1";
        private final RunFolder folder;
        private final Visualizer viz;
        private final long maskSeed;
        private final List<double[]> steps = new ArrayList<>(), epochs = new ArrayList<>(), knn = new ArrayList<>();

        Pictures(RunFolder folder, Visualizer viz, long maskSeed) throws IOException {
            this.folder = folder;
            this.viz = viz;
            this.maskSeed = maskSeed;
            // metrics.jsonl was cut back to the checkpoint on resume: its rows are exactly this run's history
            for (String line : Files.readAllLines(folder.metrics().file(), StandardCharsets.UTF_8)) {
                Map<String, Double> m = RunFolder.numbers(line);
                if (m.containsKey("step") && m.containsKey("loss")) (line.contains("\"epoch_end\"") ? epochs : steps).add(new double[] {m.get("step"), m.get("loss")});
                if (m.containsKey("step") && m.containsKey(KNN_KEY)) knn.add(new double[] {m.get("step"), 100 * m.get(KNN_KEY)});
            }
        }

        @Override public void onStep(Trainer.StepReport r) { steps.add(new double[] {r.step(), r.loss()}); }

        @Override
        public void onEpochEnd(Trainer.EpochReport r) {
            epochs.add(new double[] {r.state().step(), r.meanLoss()});
            if (r.metrics().containsKey(KNN_KEY)) knn.add(new double[] {r.state().step(), 100 * r.metrics().get(KNN_KEY)});
            try {
                if (viz != null) {
                    double loss = viz.write(folder.dir().resolve(String.format(Locale.ROOT, "recon-epoch-%03d.png", r.epoch() + 1)), maskSeed).loss();
                    folder.metrics().row("pictures", Map.of("epoch", r.epoch() + 1, "viz_loss", loss));
                }
                var lossPanel = LossCurve.render("MAE pretraining loss", "step", "loss (masked patches)",
                        List.of(series("per step", steps), series("epoch mean", epochs)), true, 900, 540);
                LossCurve.writeStacked(folder.dir().resolve(LOSS_PNG), knn.isEmpty() ? List.of(lossPanel) : List.of(lossPanel,
                        LossCurve.render("k-NN accuracy of the held-out tenth (k 20, T 0.07)", "step", "top-1 %", List.of(series("k-NN top-1", knn)), false, 900, 360)));
            } catch (IOException e) {
                // Pictures are a convenience: a full disk must not stop the training (the checkpoint write will say so).
                LOG.warn("could not write the epoch {} pictures: {}", r.epoch() + 1, e.getMessage());
            }
        }

        private static LossCurve.Series series(String name, List<double[]> points) {
            double[] x = new double[points.size()], y = new double[points.size()];
            for (int i = 0; i < x.length; i++) { x[i] = points.get(i)[0]; y[i] = points.get(i)[1]; }
            return new LossCurve.Series(name, x, y);
        }
    }

    /** The preset names, for --help. */
    static final class Presets implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return MaeConfig.presetNames().iterator(); }
    }
}
