package org.mae4j.train;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.Batch;
import org.mae4j.data.BatchLoader;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * MAE pretraining as the reference's {@code main_pretrain.py}: epochs of shuffled, augmented batches; a random
 * mask per image; AdamW with per-iteration warmup + cosine learning rate; gradient accumulation; a checkpoint
 * every few epochs and at the end.
 *
 * <p>Everything random is a pure function of the seed and the counters in {@link TrainingState}: the data order
 * and augmentation of epoch e come from (seed, e) ({@link BatchLoader}), the mask of micro-step t from (seed, t)
 * ({@link #maskRandom}). So a run resumed from a checkpoint takes exactly the steps the uninterrupted run takes.
 *
 * <p>A non-finite loss stops the run with {@link TrainingDivergedException} before the optimizer touches the
 * weights; the last checkpoint on disk is left as it was.
 */
public final class PretrainLoop {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainLoop.class);

    /**
     * How to train.
     *
     * @param epochs          total epochs of the run (a resumed run continues up to this)
     * @param batchSize       images per forward/backward pass
     * @param accumSteps      passes whose gradients are averaged into one optimizer step (effective batch = batchSize * accumSteps)
     * @param blr             base learning rate; the absolute lr is blr * effective batch / 256
     * @param minLr           floor of the cosine schedule (absolute)
     * @param warmupEpochs    epochs of linear warmup (may be fractional)
     * @param hyper           AdamW settings (betas, eps, weight decay)
     * @param seed            seed of data order, augmentation and masks
     * @param saveEveryEpochs checkpoint every this many epochs (and always at the end)
     * @param maxSteps        stop after this many optimizer steps in total (0 = no limit), saving a checkpoint; for smoke tests
     */
    public record Options(int epochs, int batchSize, int accumSteps, double blr, double minLr, double warmupEpochs,
                          AdamW.Hyper hyper, long seed, int saveEveryEpochs, long maxSteps) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (accumSteps < 1) throw new IllegalArgumentException("accumulation steps must be >= 1, got " + accumSteps);
            if (!(blr > 0) || !Double.isFinite(blr)) throw new IllegalArgumentException("base learning rate must be positive and finite, got " + blr);
            if (!(minLr >= 0) || !Double.isFinite(minLr)) throw new IllegalArgumentException("min lr must be >= 0 and finite, got " + minLr);
            if (!(warmupEpochs >= 0) || warmupEpochs > epochs) {
                throw new IllegalArgumentException("warmup epochs must be in [0, epochs = " + epochs + "], got " + warmupEpochs);
            }
            Objects.requireNonNull(hyper, "hyper");
            if (saveEveryEpochs < 1) throw new IllegalArgumentException("save-every must be >= 1 epoch, got " + saveEveryEpochs);
            if (maxSteps < 0) throw new IllegalArgumentException("max steps must be >= 0, got " + maxSteps);
        }

        public int effectiveBatch() { return batchSize * accumSteps; }

        /** The one place where the absolute learning rate is derived. */
        public double absoluteLr() { return CosineSchedule.absoluteLr(blr, effectiveBatch()); }
    }

    /** One optimizer step, as the listener sees it. */
    public record StepReport(int epoch, long step, int stepInEpoch, int stepsPerEpoch, double loss, double lr,
                             double imagesPerSecond) {}

    /** What happens around training: progress, metrics, pictures. Both methods run on the training thread. */
    public interface Listener {
        default void onStep(StepReport r) {}

        /** After epoch {@code epoch} (0-based) completed with this mean loss; checkpoint is null when none was written. */
        default void onEpochEnd(int epoch, double meanLoss, TrainingState state, Path checkpoint) {}
    }

    private final MaskedAutoencoder model;
    private final AdamW optimizer;
    private final ImageDataset dataset;
    private final Augment augment;
    private final Options options;
    private final Path checkpoint;
    private final Map<String, String> provenance;
    private final INDArray images;
    private final int stepsPerEpoch;
    private final CosineSchedule schedule;

    /**
     * @param checkpoint where checkpoints go (written atomically; null to write none)
     * @param provenance free-form facts stored in every checkpoint (command line, data source)
     */
    public PretrainLoop(MaskedAutoencoder model, AdamW optimizer, ImageDataset dataset, Augment augment, Options options,
                        Path checkpoint, Map<String, String> provenance) {
        this.model = Objects.requireNonNull(model, "model");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.augment = Objects.requireNonNull(augment, "augment");
        this.options = Objects.requireNonNull(options, "options");
        this.checkpoint = checkpoint;
        this.provenance = provenance == null ? Map.of() : Map.copyOf(provenance);
        MaeConfig c = model.config();
        if (dataset.channels() != c.channels() || dataset.imageSize() != c.imageSize()) {
            throw new IllegalArgumentException("dataset " + dataset + " has " + dataset.channels() + "-channel " + dataset.imageSize()
                    + "px images but the model expects " + c.channels() + " channels of " + c.imageSize() + "px");
        }
        int batchesPerEpoch = dataset.size() / options.batchSize();
        this.stepsPerEpoch = batchesPerEpoch / options.accumSteps();
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("dataset has " + dataset.size() + " images: not enough for one step of batch "
                    + options.batchSize() + " x " + options.accumSteps() + " accumulation steps");
        }
        long total = (long) stepsPerEpoch * options.epochs();
        long warmup = Math.round(options.warmupEpochs() * stepsPerEpoch);
        this.schedule = new CosineSchedule(options.absoluteLr(), Math.min(options.minLr(), options.absoluteLr()), warmup, total);
        this.images = Nd4j.create(model.params().dataType(), options.batchSize(), c.channels(), c.imageSize(), c.imageSize());
    }

    public int stepsPerEpoch() { return stepsPerEpoch; }

    /**
     * Trains from {@code start} (a fresh state or one loaded from a checkpoint) to the end of the run, or to
     * maxSteps. Returns the state reached, which the last checkpoint also holds.
     */
    public TrainingState run(TrainingState start, Listener listener) throws IOException {
        Objects.requireNonNull(start, "start");
        Listener l = listener == null ? new Listener() {} : listener;
        LOG.info("pretraining: {} images, batch {} x accum {} = {}, lr {} (blr {} x {}/256), {} steps/epoch, warmup {} steps, epochs {}..{}",
                dataset.size(), options.batchSize(), options.accumSteps(), options.effectiveBatch(), fmt(options.absoluteLr()),
                options.blr(), options.effectiveBatch(), stepsPerEpoch, schedule.warmupSteps(), start.epoch() + 1, options.epochs());
        TrainingState state = start;
        ParamStore store = model.params();
        while (state.epoch() < options.epochs()) {
            int epoch = state.epoch();
            // Steps of this epoch already taken (a checkpoint written at --max-steps, mid-epoch).
            int done = (int) (state.step() - (long) epoch * stepsPerEpoch);
            if (done < 0 || done > stepsPerEpoch) {
                throw new IllegalStateException("training state " + state + " does not fit " + stepsPerEpoch
                        + " steps per epoch: was the checkpoint made with another batch size, accumulation or dataset?");
            }
            double lossSum = 0;
            int lossCount = 0;
            boolean stop = false;
            try (BatchLoader loader = new BatchLoader(dataset, options.batchSize(), true, augment, options.seed(), epoch, epoch + 1)) {
                for (int skip = 0; skip < done * options.accumSteps(); skip++) loader.next().release();
                for (int s = done; s < stepsPerEpoch && !stop; s++) {
                    long t0 = System.nanoTime();
                    double lr = schedule.lr(state.step());
                    store.zeroGrad();
                    double stepLoss = 0;
                    long micro = state.microStep();
                    for (int a = 0; a < options.accumSteps(); a++, micro++) {
                        Batch b = loader.next();
                        images.data().setData(b.images());
                        b.release();
                        MaeOutput out = model.forward(images, maskRandom(options.seed(), micro));
                        if (!Double.isFinite(out.loss())) throw new TrainingDivergedException(epoch + 1, state.step(), lr, out.loss());
                        model.backward();
                        stepLoss += out.loss();
                    }
                    // The reference divides each micro-batch loss by accum_iter: the same as averaging the gradients.
                    if (options.accumSteps() > 1) store.flatGrads().muli(1.0 / options.accumSteps());
                    optimizer.step(lr);
                    stepLoss /= options.accumSteps();
                    state = new TrainingState(epoch, state.step() + 1, micro, state.seed());
                    lossSum += stepLoss;
                    lossCount++;
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    l.onStep(new StepReport(epoch, state.step(), s + 1, stepsPerEpoch, stepLoss, lr, options.effectiveBatch() / seconds));
                    stop = options.maxSteps() > 0 && state.step() >= options.maxSteps();
                }
            }
            if (stop && state.step() - (long) epoch * stepsPerEpoch < stepsPerEpoch) {   // stopped mid-epoch
                Path saved = save(state);
                LOG.info("stopping at --max-steps {} in epoch {}{}", options.maxSteps(), epoch + 1, saved == null ? "" : ", checkpoint " + saved);
                return state;
            }
            state = new TrainingState(epoch + 1, state.step(), state.microStep(), state.seed());
            boolean last = stop || state.epoch() == options.epochs();
            Path saved = (last || state.epoch() % options.saveEveryEpochs() == 0) ? save(state) : null;
            l.onEpochEnd(epoch, lossCount == 0 ? Double.NaN : lossSum / lossCount, state, saved);
            if (stop) {
                LOG.info("stopping at --max-steps {} at the end of epoch {}", options.maxSteps(), epoch + 1);
                return state;
            }
        }
        return state;
    }

    private Path save(TrainingState state) throws IOException {
        if (checkpoint == null) return null;
        Map<String, String> prov = new LinkedHashMap<>(provenance);
        prov.put("options", options.toString());
        Checkpoint.save(checkpoint, model, optimizer, state, prov);
        return checkpoint;
    }

    /** The generator of micro-step t's masks: a pure function of (seed, t), so resumed runs mask alike. */
    static Random maskRandom(long seed, long microStep) {
        return new Random(mix(seed * 0x9E3779B97F4A7C15L + microStep));
    }

    /** SplitMix64's finalizer: neighbouring (seed, step) pairs give unrelated generator seeds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static String fmt(double v) { return String.format(java.util.Locale.ROOT, "%.3g", v); }
}
