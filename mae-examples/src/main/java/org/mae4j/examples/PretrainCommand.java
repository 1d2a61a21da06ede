package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.Kernels;
import org.mae4j.examples.viz.LossCurve;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.PretrainLoop;
import org.mae4j.train.TrainingDivergedException;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code ./mae pretrain}: MAE pretraining with the reference recipe. Writes into {@code --out}: checkpoint.zip
 * (every --save-every epochs and at the end), metrics.jsonl (one JSON object per step and per epoch), loss.png,
 * and recon-epoch-NNN.png (the same images, the same mask, every epoch).
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Pretrain a masked autoencoder (default: tinyFmnist on the embedded Fashion-MNIST).")
public final class PretrainCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainCommand.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CHECKPOINT = "checkpoint.zip", METRICS = "metrics.jsonl", LOSS_PNG = "loss.png";

    @Option(names = "--preset", defaultValue = "tinyFmnist", description = "Model preset: ${COMPLETION-CANDIDATES}.",
            completionCandidates = Presets.class)
    String preset;
    @Option(names = "--data", defaultValue = Datasets.FASHION_MNIST,
            description = "'fashion-mnist' (embedded), a folder of Fashion-MNIST idx files, or an image folder (class subfolders or flat).")
    String data;
    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N images (0 = all).")
    int limit;
    @Option(names = "--out", defaultValue = "runs/pretrain", description = "Output folder.")
    Path out;
    @Option(names = "--epochs", defaultValue = "20", description = "Total epochs.")
    int epochs;
    @Option(names = "--batch", defaultValue = "256", description = "Images per step.")
    int batch;
    @Option(names = "--accum", defaultValue = "1", description = "Gradient accumulation steps (effective batch = batch x accum).")
    int accum;
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
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialization, data order, augmentation and masks.")
    long seed;
    @Option(names = "--save-every", defaultValue = "1", description = "Write the checkpoint every N epochs (and at the end).")
    int saveEvery;
    @Option(names = "--resume", description = "Continue from this checkpoint (its config and seed are used).")
    Path resume;
    @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many steps in total (0 = no limit); for smoke tests.")
    long maxSteps;
    @picocli.CommandLine.Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--viz-images", defaultValue = "8", description = "Images in each epoch's reconstruction picture (0 = none).")
    int vizImages;

    @Override
    public Integer call() throws IOException {
        Path checkpoint = out.resolve(CHECKPOINT);
        if (resume == null && Files.exists(checkpoint)) {
            throw new IllegalArgumentException(checkpoint + " already exists: continue it with --resume " + checkpoint
                    + ", or choose another --out (nothing was overwritten)");
        }
        if (vizImages < 0) throw new IllegalArgumentException("--viz-images must be >= 0, got " + vizImages);

        MaskedAutoencoder model;
        AdamW.Hyper hyper = AdamW.Hyper.mae().withWeightDecay(weightDecay);
        AdamW optimizer;
        TrainingState start;
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        if (resume != null) {
            Checkpoint.Contents c = Checkpoint.load(resume);
            if (c.optimizer() == null) throw new IllegalArgumentException("--resume " + resume + " holds weights only, no optimizer state to continue from");
            model = new MaskedAutoencoder(c.config(), c.params(), kernels);
            optimizer = new AdamW(c.params(), kernels, hyper);
            optimizer.restore(c.state().step(), c.firstMoments(), c.secondMoments());
            start = c.state();
            seed = start.seed();
            LOG.info("resuming {} at epoch {}, step {}", resume, start.epoch() + 1, start.step());
        } else {
            MaeConfig cfg = MaeConfig.preset(preset);
            if (maskRatio != null) cfg = cfg.withMaskRatio(maskRatio);
            if (normPixLoss != null) cfg = cfg.withNormPixLoss(normPixLoss);
            model = MaskedAutoencoder.create(cfg, DataType.FLOAT, kernels, new Random(seed));
            optimizer = new AdamW(model.params(), kernels, hyper);
            start = TrainingState.start(seed);
        }
        MaeConfig cfg = model.config();
        ImageDataset dataset = Datasets.open(data, cfg.channels(), cfg.imageSize(), true, limit);
        Augment augment = normalization.apply(Augment.mae(cfg.channels()));
        PretrainLoop.Options options = new PretrainLoop.Options(epochs, batch, accum, blr, minLr,
                warmupEpochs != null ? warmupEpochs : Math.min(2.0, epochs), hyper, seed, saveEvery, maxSteps);
        Files.createDirectories(out);
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("command", "pretrain");
        provenance.put("data", dataset.toString());
        provenance.put("normalization", "mean " + java.util.Arrays.toString(augment.mean()) + ", std " + java.util.Arrays.toString(augment.std()));
        PretrainLoop loop = new PretrainLoop(model, optimizer, dataset, augment, options, checkpoint, provenance);
        LOG.info("model {}: {} parameters; data {}; output {}", cfg, model.params().numTrainable(), dataset, out.toAbsolutePath());

        Visualizer viz = vizImages == 0 ? null
                : Visualizer.ofDataset(cfg, model.params(), kernels, dataset, Visualizer.firstIndices(dataset, vizImages), augment);
        Metrics metrics = new Metrics(out, viz, seed, start.step() > 0);
        Progress progress = new Progress(System.out, System.console() != null, epochs);
        if (viz != null && start.step() == 0) viz.write(out.resolve("recon-init.png"), seed);
        try {
            loop.run(start, new PretrainLoop.Listener() {
                @Override public void onStep(PretrainLoop.StepReport r) {
                    metrics.onStep(r);
                    progress.onStep(r);
                }

                @Override public void onEpochEnd(int epoch, double meanLoss, TrainingState state, Path saved) {
                    metrics.onEpochEnd(epoch, meanLoss, state, saved);
                    progress.onEpochEnd(epoch, meanLoss, state, saved);
                }
            });
        } catch (TrainingDivergedException e) {
            LOG.error(e.getMessage());
            return 3;
        } finally {
            metrics.close();
        }
        LOG.info("done: {}", out.toAbsolutePath());
        return 0;
    }

    /** metrics.jsonl, loss.png and the reconstruction pictures. */
    private static final class Metrics implements PretrainLoop.Listener, AutoCloseable {
        private final Path dir;
        private final Visualizer viz;
        private final long maskSeed;
        private final BufferedWriter log;
        private final List<double[]> steps = new ArrayList<>(), epochs = new ArrayList<>();

        Metrics(Path dir, Visualizer viz, long maskSeed, boolean append) throws IOException {
            this.dir = dir;
            this.viz = viz;
            this.maskSeed = maskSeed;
            Path file = dir.resolve(METRICS);
            if (append && Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {   // redraw the whole curve after a resume
                    Map<String, Double> m = Json.flatNumbers(line);
                    if (m.containsKey("step") && m.containsKey("loss")) {
                        (line.contains("\"epoch_end\"") ? epochs : steps).add(new double[] {m.get("step"), m.get("loss")});
                    }
                }
            }
            this.log = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        }

        @Override
        public void onStep(PretrainLoop.StepReport r) {
            ObjectNode n = JSON.createObjectNode();
            n.put("type", "step");
            n.put("epoch", r.epoch() + 1);
            n.put("step", r.step());
            n.put("loss", r.loss());
            n.put("lr", r.lr());
            n.put("images_per_s", Math.round(r.imagesPerSecond() * 10) / 10.0);
            write(n);
            steps.add(new double[] {r.step(), r.loss()});
        }

        @Override
        public void onEpochEnd(int epoch, double meanLoss, TrainingState state, Path saved) {
            ObjectNode n = JSON.createObjectNode();
            n.put("type", "epoch_end");
            n.put("epoch", epoch + 1);
            n.put("step", state.step());
            n.put("loss", meanLoss);
            try {
                if (viz != null) n.put("viz_loss", viz.write(dir.resolve(String.format(Locale.ROOT, "recon-epoch-%03d.png", epoch + 1)), maskSeed).loss());
                epochs.add(new double[] {state.step(), meanLoss});
                LossCurve.write(dir.resolve(LOSS_PNG), "MAE pretraining loss", "step", "loss (masked patches)",
                        List.of(series("per step", steps), series("epoch mean", epochs)), true, 900, 540);
            } catch (IOException e) {
                // Pictures are a convenience: a full disk must not stop the training (the checkpoint write will say so).
                LOG.warn("could not write the epoch {} pictures: {}", epoch + 1, e.getMessage());
            }
            if (saved != null) n.put("checkpoint", saved.getFileName().toString());
            write(n);
        }

        private static LossCurve.Series series(String name, List<double[]> points) {
            double[] x = new double[points.size()], y = new double[points.size()];
            for (int i = 0; i < x.length; i++) { x[i] = points.get(i)[0]; y[i] = points.get(i)[1]; }
            return new LossCurve.Series(name, x, y);
        }

        private void write(ObjectNode n) {
            try {
                log.write(JSON.writeValueAsString(n));
                log.newLine();
                log.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("writing " + dir.resolve(METRICS) + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws IOException { log.close(); }
    }

    /** The preset names, for --help. */
    static final class Presets implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return MaeConfig.presetNames().iterator(); }
    }
}
