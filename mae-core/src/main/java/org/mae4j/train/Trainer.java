package org.mae4j.train;

import org.mae4j.config.Normalization;
import org.mae4j.data.Batch;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The one training loop of mae4j: pretraining, fine-tuning and the linear probe are {@link Trainable}s it
 * drives. It owns, once: gradient accumulation, the per-step warmup + cosine learning rate, the optimizer step,
 * data-parallel training over a {@link Collective}, gradient clipping, the divergence stop,
 * {@code --max-steps}, stop on a signal, evaluation at epoch ends, metrics, checkpoints (last and best) and
 * resume. Everything random is a pure function of the seed and the {@link TrainingState} counters, so a run
 * resumed from any checkpoint takes exactly the steps of the uninterrupted run.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /**
     * How to train.
     *
     * @param epochs          total epochs of the run (a resumed run continues up to this)
     * @param batch           samples per forward/backward pass, over all processes
     * @param accum           passes whose gradients are averaged into one optimizer step (effective batch = batch x accum)
     * @param blr             base learning rate; the absolute lr is blr x effective batch / 256
     * @param minLr           floor of the cosine schedule (absolute)
     * @param warmupEpochs    epochs of linear warmup (may be fractional)
     * @param seed            seed of data order, augmentation and every per-step random draw
     * @param saveEveryEpochs checkpoint every this many epochs (and always at the end and when stopped)
     * @param maxSteps        stop after this many optimizer steps in total (0 = no limit), with a checkpoint
     * @param clipGrad        clip the gradient's global L2 norm to this (0 = off)
     */
    public record Options(int epochs, int batch, int accum, double blr, double minLr, double warmupEpochs, long seed,
                          int saveEveryEpochs, long maxSteps, double clipGrad) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs + " (--epochs)");
            if (batch < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batch + " (--batch)");
            if (accum < 1) throw new IllegalArgumentException("accumulation steps must be >= 1, got " + accum + " (--accum)");
            if ((long) batch * accum > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("batch " + batch + " x accumulation " + accum + " = " + (long) batch * accum + " images per step: more than " + Integer.MAX_VALUE);
            }
            if (!(blr > 0) || !Double.isFinite(blr)) throw new IllegalArgumentException("base learning rate must be positive and finite, got " + blr + " (--blr)");
            if (!(minLr >= 0) || !Double.isFinite(minLr)) throw new IllegalArgumentException("min lr must be >= 0 and finite, got " + minLr + " (--min-lr)");
            if (!(warmupEpochs >= 0) || warmupEpochs > epochs) {
                throw new IllegalArgumentException("warmup epochs must be in [0, epochs = " + epochs + "], got " + warmupEpochs + " (--warmup-epochs)");
            }
            if (saveEveryEpochs < 1) throw new IllegalArgumentException("save-every must be >= 1 epoch, got " + saveEveryEpochs + " (--save-every)");
            if (maxSteps < 0) throw new IllegalArgumentException("max steps must be >= 0, got " + maxSteps + " (--max-steps)");
            if (!(clipGrad >= 0) || !Double.isFinite(clipGrad)) throw new IllegalArgumentException("clip-grad must be >= 0 and finite, got " + clipGrad + " (--clip-grad)");
        }

        public int effectiveBatch() { return batch * accum; }

        /** The one place where the absolute learning rate is derived. */
        public double absoluteLr() { return CosineSchedule.absoluteLr(blr, effectiveBatch()); }

        /** The recipe as the checkpoint stores it, for checking a resume against it. */
        public Map<String, String> asMap() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("epochs", Integer.toString(epochs));
            m.put("batch", Integer.toString(batch));
            m.put("accum", Integer.toString(accum));
            m.put("blr", Double.toString(blr));
            m.put("min_lr", Double.toString(minLr));
            m.put("warmup_epochs", Double.toString(warmupEpochs));
            m.put("seed", Long.toString(seed));
            m.put("save_every", Integer.toString(saveEveryEpochs));
            m.put("clip_grad", Double.toString(clipGrad));
            return m;
        }
    }

    /** One optimizer step, as listeners see it. */
    public record StepReport(int epoch, long step, int stepInEpoch, int stepsPerEpoch, double loss, double lr, double samplesPerSecond) {}

    /** The end of an epoch: its mean training loss, the evaluation's metrics, and the checkpoint written (or null). */
    public record EpochReport(int epoch, double meanLoss, TrainingState state, Map<String, Double> metrics, Path checkpoint) {}

    /** What happens around training (progress, pictures); both methods run on the training thread. */
    public interface Listener {
        default void onStep(StepReport r) {}
        default void onEpochEnd(EpochReport r) {}
    }

    /** Scores the model at an epoch end (0-based epoch): metrics by name, e.g. "val_top1". */
    @FunctionalInterface
    public interface Evaluator {
        Map<String, Double> evaluate(int epoch);
    }

    /** How the run ended. */
    public enum End { COMPLETED, MAX_STEPS, STOPPED }

    /** The state reached and why the run ended. */
    public record Result(TrainingState state, End end) {}

    private final Trainable model;
    private final Optimizer optimizer;
    private final TrainData data;
    private final Options options;
    private final int stepsPerEpoch;
    private final CosineSchedule schedule;
    private RunFolder run;
    private Normalization normalization;
    private Map<String, String> provenance = Map.of();
    private Map<String, String> recipe = Map.of();
    private Evaluator evaluator;
    private String bestMetric;
    private Collective collective = Collective.LOCAL;
    private int rank = 0, processes = 1;
    private StopSignal stop = StopSignal.NONE;
    private Listener listener = new Listener() {};

    public Trainer(Trainable model, Optimizer optimizer, TrainData data, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.data = Objects.requireNonNull(data, "data");
        this.options = Objects.requireNonNull(options, "options");
        this.stepsPerEpoch = data.size() / options.batch() / options.accum();
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("the training data has " + data.size() + " samples: not enough for one step of batch "
                    + options.batch() + " x " + options.accum() + " accumulation steps");
        }
        long total = (long) stepsPerEpoch * options.epochs();
        long warmup = Math.round(options.warmupEpochs() * stepsPerEpoch);
        checkMemory();
        this.schedule = new CosineSchedule(options.absoluteLr(), Math.min(options.minLr(), options.absoluteLr()), warmup, total);
    }

    /** Refuses, before anything is allocated, a micro-batch whose activations cannot fit (see {@link MemoryNeed}). */
    private void checkMemory() {
        MemoryNeed need;
        try {
            need = model.memory(options.batch() / processes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("batch " + options.batch() + ": its activations would not even have a size that fits in a long");
        }
        if (need != null) need.check("batch " + options.batch() + (processes > 1 ? " (" + options.batch() / processes + " per process)" : ""),
                org.bytedeco.javacpp.Pointer.availablePhysicalBytes());
    }

    /** Where checkpoints and metrics go (null: nowhere). */
    public Trainer run(RunFolder run) { this.run = run; return this; }

    /** What the checkpoints record about the job: input normalization, provenance, and recipe options beyond {@link Options}. */
    public Trainer describe(Normalization normalization, Map<String, String> provenance, Map<String, String> recipe) {
        this.normalization = normalization;
        this.provenance = Map.copyOf(provenance);
        this.recipe = Map.copyOf(recipe);
        return this;
    }

    /** Evaluates at every epoch end; with bestMetric (higher is better) the best epoch's checkpoint is kept too. */
    public Trainer evaluate(Evaluator evaluator, String bestMetric) { this.evaluator = evaluator; this.bestMetric = bestMetric; return this; }

    /**
     * Data parallel over the collective's processes: each trains on its share of every global batch, gradients
     * are summed before the identical optimizer step, and only rank 0 writes (give the other ranks no
     * {@link #run(RunFolder)}). At the start the runs are compared and rank 0's parameters and optimizer state
     * are sent to all; every {@value DataParallel#CHECK_EVERY} steps the parameters are compared.
     */
    public Trainer distributed(Collective collective) {
        int processes = collective.worldSize(), rank = collective.rank();
        if (processes < 1 || rank < 0 || rank >= processes) throw new IllegalArgumentException("rank " + rank + " of " + processes + " processes");
        if (options.batch() % processes != 0) {
            throw new IllegalArgumentException("batch " + options.batch() + " does not split into " + processes + " equal shares: choose a batch divisible by the number of processes");
        }
        this.rank = rank;
        this.processes = processes;
        checkMemory();
        this.collective = collective;
        return this;
    }

    /** Asked between steps whether to stop (Ctrl-C, a scheduler's SIGTERM); the run then saves and ends. */
    public Trainer stopOn(StopSignal stop) { this.stop = Objects.requireNonNull(stop, "stop"); return this; }

    public Trainer listen(Listener listener) { this.listener = Objects.requireNonNull(listener, "listener"); return this; }

    public int stepsPerEpoch() { return stepsPerEpoch; }

    public Options options() { return options; }

    /** Trains from {@code start} (fresh, or a checkpoint's state) to the end of the run, maxSteps, or a stop request. */
    public Result train(TrainingState start) throws IOException {
        Objects.requireNonNull(start, "start");
        if (start.epoch() > options.epochs()) {
            throw new IllegalArgumentException("the run has already trained " + start.epoch() + " epochs, more than --epochs " + options.epochs());
        }
        LOG.info("{}: {} samples, batch {} x accum {} = {}{}, lr {} (blr {} x {}/256), {} steps/epoch, warmup {} steps, epochs {}..{}",
                model.kind(), data.size(), options.batch(), options.accum(), options.effectiveBatch(),
                processes > 1 ? " over " + processes + " processes" : "", fmt(options.absoluteLr()), options.blr(), options.effectiveBatch(),
                stepsPerEpoch, schedule.warmupSteps(), start.epoch() + 1, options.epochs());
        int share = options.batch() / processes;
        ParamStore store = model.params();
        INDArray grads = store.flatGrads();
        DataParallel dp = processes > 1 ? startDataParallel(start) : null;
        TrainingState state = start;
        while (state.epoch() < options.epochs()) {
            int epoch = state.epoch();
            long done = state.step() - (long) epoch * stepsPerEpoch;   // steps of this epoch already taken (mid-epoch checkpoint)
            if (done < 0 || done > stepsPerEpoch) {
                throw new IllegalStateException("training state " + state + " does not fit " + stepsPerEpoch
                        + " steps per epoch: was the checkpoint made with another batch size, accumulation or dataset?");
            }
            double lossSum = 0;
            int lossCount = 0;
            if (done > 0 && run != null) {   // resumed mid-epoch: the epoch's mean also covers the steps before the checkpoint
                double[] before = run.metrics().lossesBeforeResume();
                if (before.length == done) {
                    for (double l : before) lossSum += l;
                    lossCount = (int) done;
                } else {
                    LOG.info("epoch {}: the metrics hold {} of the {} step losses before the resume point, so its logged mean loss covers only the steps after it",
                            epoch + 1, before.length, done);
                }
            }
            End end = null;
            try (TrainData.Source batches = data.open(options.seed(), epoch, (int) done * options.accum(), options.batch(), rank * share, share)) {
                for (long s = done; s < stepsPerEpoch && end == null; s++) {
                    long t0 = System.nanoTime();
                    double lr = schedule.lr(state.step());
                    store.zeroGrad();
                    double stepLoss = 0;
                    for (int a = 0; a < options.accum(); a++) {
                        Batch b = batches.next();
                        MicroBatch mb = new MicroBatch(b.images(), b.labels(), b.n(), rank * share, options.batch(), epoch,
                                state.microStep() + a, options.seed());
                        double loss = model.forwardBackward(mb);
                        b.release();
                        // in data parallel a diverged share travels in the loss sum, so that every rank stops at once
                        if (!Double.isFinite(loss) && dp == null) throw new TrainingDivergedException(epoch + 1, state.step(), lr, loss);
                        stepLoss += loss;
                    }
                    boolean stopAll = false;
                    if (dp != null) {
                        DataParallel.Sums sums = dp.reduce(grads, stepLoss, stop.requested());
                        stepLoss = sums.lossSum() / processes;   // the global batch's mean, as one process would log it (summed in float)
                        stopAll = sums.stop();
                        if (!Double.isFinite(stepLoss)) throw new TrainingDivergedException(epoch + 1, state.step(), lr, stepLoss);
                    }
                    // The reference divides each micro-batch loss by accum_iter and DDP averages over processes: the
                    // same as averaging the gradient sums.
                    if (options.accum() > 1) grads.muli(1.0 / options.accum());
                    if (processes > 1) grads.muli(1.0 / processes);
                    if (options.clipGrad() > 0) GradClip.clipGlobalNorm(store, model.kernels(), options.clipGrad());
                    optimizer.step(lr);
                    stepLoss /= options.accum();
                    state = state.afterStep(options.accum(), (long) options.effectiveBatch());
                    lossSum += stepLoss;
                    lossCount++;
                    StepReport r = new StepReport(epoch, state.step(), (int) s + 1, stepsPerEpoch, stepLoss, lr,
                            options.effectiveBatch() / ((System.nanoTime() - t0) / 1e9));
                    if (run != null) run.metrics().step(r);
                    listener.onStep(r);
                    if (dp != null && state.step() % DataParallel.CHECK_EVERY == 0) checkSameParams(dp, state.step());
                    if (options.maxSteps() > 0 && state.step() >= options.maxSteps()) end = End.MAX_STEPS;
                    else if (dp != null ? stopAll : stop.requested()) end = End.STOPPED;
                }
            }
            if (end != null && state.step() - (long) epoch * stepsPerEpoch < stepsPerEpoch) {   // stopped mid-epoch
                Path saved = save(state, run == null ? null : run.checkpoint());
                LOG.info("{} at step {} in epoch {}{}", end == End.STOPPED ? "stopped on request" : "reached --max-steps " + options.maxSteps(),
                        state.step(), epoch + 1, saved == null ? "" : ", checkpoint " + saved);
                return new Result(state, end);
            }
            state = state.afterEpoch();
            Map<String, Double> metrics = evaluator == null ? Map.of() : evaluator.evaluate(epoch);
            boolean last = end != null || state.epoch() == options.epochs();
            boolean saving = run != null && rank == 0 && (last || state.epoch() % options.saveEveryEpochs() == 0);
            // Written in this order so that a kill at any point loses nothing: the epoch's row first (a resume from
            // an earlier checkpoint cuts it and logs it again), then the best (in the checkpoint's record of the best
            // from now on, so that a resume from this checkpoint compares later epochs with this one), then the
            // checkpoint, whose rename makes the epoch done.
            boolean best = bestMetric != null && run != null && metrics.containsKey(bestMetric) && run.improves(bestMetric, metrics.get(bestMetric), epoch);
            EpochReport r = new EpochReport(epoch, lossCount == 0 ? Double.NaN : lossSum / lossCount, state, metrics, saving ? run.checkpoint() : null);
            if (run != null) run.metrics().epochEnd(r);
            if (best) save(state, run.best());
            if (saving) save(state, run.checkpoint());
            listener.onEpochEnd(r);
            // a stop asked for during the epoch's end (its evaluation, its checkpoint write) ends the run here, saved, as a
            // stopped run: not one step into the next epoch, nor, after the last epoch, as a completed run whose command
            // goes on to score while the JVM exits. In data parallel the ranks agree on a stop in a step's all-reduce.
            if (end == null && dp == null && stop.requested()) {
                if (!saving) save(state, run == null ? null : run.checkpoint());
                end = End.STOPPED;
            }
            if (end != null) {
                LOG.info("{} at the end of epoch {}", end == End.STOPPED ? "stopped on request" : "reached --max-steps " + options.maxSteps(), epoch + 1);
                return new Result(state, end);
            }
        }
        return new Result(state, End.COMPLETED);
    }

    /**
     * Refuses ranks that were not started alike (their model, recipe, data, or start state differ: they would train
     * different things), then gives every rank rank 0's parameters and optimizer state.
     */
    private DataParallel startDataParallel(TrainingState start) {
        if (rank != 0 && run != null) {
            throw new IllegalStateException("rank " + rank + " was given a run folder: only rank 0 writes checkpoints, metrics and pictures");
        }
        if (model.params().dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("data-parallel training needs FLOAT parameters, got " + model.params().dataType());
        }
        DataParallel dp = new DataParallel(collective);
        String identity = String.join("\n", model.kind(), String.valueOf(model.config()), new TreeMap<>(model.describe()).toString(),
                options.asMap().toString(), "max_steps=" + options.maxSteps(), new TreeMap<>(recipe).toString(), String.valueOf(normalization),
                "samples=" + data.size(), start.toString(), optimizer.name(), new TreeMap<>(optimizer.hyperParameters()).toString(),
                "optimizer_steps=" + optimizer.stepCount(), "scalars=" + model.params().numScalars());
        List<Integer> differ = dp.differFromRank0(DataParallel.fingerprint(identity));
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("rank(s) " + differ + " were started differently from rank 0 (model, options, data or resume point): "
                    + "every process must be given the same command" + (differ.contains(rank) ? "; this rank's run: " + identity.replace('\n', ' ') : ""));
        }
        dp.broadcast(model.params().flatParams());
        for (INDArray s : new TreeMap<>(optimizer.state()).values()) dp.broadcast(s);
        LOG.info("rank {} of {}: runs agree; parameters and optimizer state taken from rank 0", rank, processes);
        return dp;
    }

    /** Silent divergence (a rank's kernels not deterministic, a corrupt reduction) shows as parameters that differ. */
    private void checkSameParams(DataParallel dp, long step) {
        List<Integer> differ = dp.differFromRank0(dp.fingerprint(model.params().flatParams()));
        if (!differ.isEmpty()) {
            throw new IllegalStateException("after step " + step + " the parameters of rank(s) " + differ + " differ from rank 0's: "
                    + "the processes have diverged (different kernels or hardware, or a corrupt reduction)");
        }
    }

    /**
     * Restores an optimizer from a checkpoint and returns the state to resume at.
     *
     * @throws IllegalArgumentException if the checkpoint holds weights only, or another optimizer's state
     */
    public static TrainingState restore(Optimizer optimizer, Checkpoint.Contents c, Object source) {
        if (!c.resumable()) throw new IllegalArgumentException(source + " holds weights only, no training state to resume from");
        if (!c.optimizer().name().equals(optimizer.name())) {
            throw new IllegalArgumentException(source + " was trained with " + c.optimizer().name() + ", this run uses " + optimizer.name());
        }
        optimizer.restore(c.optimizer().steps(), c.optimizer().buffers());
        return TrainingState.of(c.state());
    }

    /** The checkpoint of the model and optimizer at this state (only rank 0 writes). */
    private Path save(TrainingState state, Path file) throws IOException {
        if (file == null || rank != 0) return null;
        Map<String, String> opts = new LinkedHashMap<>(options.asMap());
        opts.putAll(recipe);
        Map<String, String> prov = new LinkedHashMap<>(provenance);
        if (run != null) prov.putAll(run.bestRecord());
        Checkpoint.save(file, new Checkpoint.Contents(model.kind(), model.config(), model.describe(), normalization, model.params(),
                state.toCheckpoint(), new Checkpoint.OptimizerState(optimizer.name(), optimizer.hyperParameters(), optimizer.stepCount(),
                optimizer.state()), opts, prov, Checkpoint.FORMAT_VERSION));
        afterSave.accept(file);
        return file;
    }

    /** Called after each checkpoint lands (tests: a crash simulated right after the rename). */
    static volatile java.util.function.Consumer<Path> afterSave = f -> {};

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.3g", v); }
}
