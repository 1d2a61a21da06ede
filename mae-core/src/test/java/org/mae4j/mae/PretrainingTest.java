package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.io.Checkpoint;
import org.mae4j.train.AdamW;
import org.mae4j.train.RunFolder;
import org.mae4j.train.StopSignal;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingDivergedException;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Pretraining on the one engine, micro model: learning happens, resume is exact, divergence keeps the checkpoint. */
class PretrainingTest {

    /** n smooth random 3-channel 16px images (low-frequency patterns, so there is something to learn). */
    record Synthetic(int size, long seed) implements ImageDataset {
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return false; }
        @Override public int label(int i) { throw new IllegalStateException("unlabeled"); }
        @Override public List<String> classNames() { return List.of(); }

        @Override
        public void image(int i, float[] dst, int offset) {
            Random r = new Random(seed * 31 + i);
            double fx = r.nextDouble() * 0.5, fy = r.nextDouble() * 0.5, ph = r.nextDouble() * 6;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        dst[offset + (c * 16 + y) * 16 + x] = (float) (0.5 + 0.4 * Math.sin(fx * x + fy * y + ph + c));
                    }
                }
            }
        }
    }

    /** base with one NaN pixel in image bad. */
    record Poisoned(Synthetic base, int bad) implements ImageDataset {
        @Override public int size() { return base.size(); }
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return false; }
        @Override public int label(int i) { throw new IllegalStateException("unlabeled"); }
        @Override public List<String> classNames() { return List.of(); }

        @Override
        public void image(int i, float[] dst, int offset) {
            base.image(i, dst, offset);
            if (i == bad) dst[offset + 17] = Float.NaN;
        }
    }

    private static final MaeConfig CFG = MaeConfig.micro();

    static Trainer.Options options(int epochs, long maxSteps, double blr) {
        return new Trainer.Options(epochs, 8, 2, blr, 0, 1, 7, 1, maxSteps, 0);
    }

    private static MaskedAutoencoder model() {
        return MaskedAutoencoder.create(CFG, new Random(3));
    }

    private static Trainer trainer(MaskedAutoencoder m, AdamW opt, ImageDataset data, Augment aug, Trainer.Options o) {
        return new Trainer(new Pretraining(m), opt, TrainData.images(data, aug), o);
    }

    @Test
    void lossFallsAndStateCountsSteps(@TempDir Path dir) throws Exception {
        MaskedAutoencoder m = model();
        Trainer t = trainer(m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()), new Synthetic(64, 1), Augment.none(3), options(6, 0, 1e-2));
        assertEquals(4, t.stepsPerEpoch(), "64 images / (8 x 2 accumulation)");
        List<Double> epochLoss = new ArrayList<>();
        List<Double> lrs = new ArrayList<>();
        Trainer.Result end;
        try (RunFolder run = RunFolder.open(dir, null, Map.of())) {
            end = t.run(run).listen(new Trainer.Listener() {
                @Override public void onStep(Trainer.StepReport r) { lrs.add(r.lr()); }
                @Override public void onEpochEnd(Trainer.EpochReport r) { epochLoss.add(r.meanLoss()); }
            }).train(TrainingState.start(7));
        }
        assertEquals(new TrainingState(6, 24, 48, 24 * 16, 7), end.state());
        assertEquals(Trainer.End.COMPLETED, end.end());
        assertEquals(0.0, lrs.get(0), "warmup starts at zero");
        assertEquals(1e-2 * 16 / 256, lrs.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), 1e-12, "peak lr = blr x 16/256");
        assertTrue(epochLoss.get(5) < 0.8 * epochLoss.get(0), "loss should fall by 20%: " + epochLoss);
        Checkpoint.Contents c = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
        assertEquals(end.state(), TrainingState.of(c.state()));
        assertEquals("pretrain", c.kind());
        long steps = Files.readAllLines(dir.resolve(RunFolder.METRICS)).stream().filter(l -> l.contains("\"type\":\"step\"")).count();
        assertEquals(24, steps, "one metrics row per step");
    }

    /** Trains to the end from a fresh start or from a checkpoint; returns the final parameters. */
    private static float[] train(Path dir, ImageDataset data, long maxSteps, boolean resume) throws Exception {
        MaskedAutoencoder m;
        AdamW opt;
        TrainingState start;
        if (resume) {
            Checkpoint.Contents c = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
            m = new MaskedAutoencoder(c.config(), c.params(), MaskedAutoencoder.defaultKernels(DataType.FLOAT));
            opt = new AdamW(c.params(), m.kernels(), AdamW.Hyper.mae());
            start = Trainer.restore(opt, c, "test checkpoint");
        } else {
            m = model();
            opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
            start = TrainingState.start(7);
        }
        try (RunFolder run = RunFolder.open(dir, resume ? start : null, Map.of())) {
            Trainer.Result r = trainer(m, opt, data, Augment.mae(3), options(3, maxSteps, 1e-3)).run(run).train(start);
            if (maxSteps > 0) assertEquals(new TrainingState(1, 4, 8, 64, 7), r.state());
        }
        return m.params().flatParams().toFloatVector();
    }

    @Test
    void resumedRunMatchesUninterruptedRunExactly(@TempDir Path dir) throws Exception {
        ImageDataset data = new Synthetic(48, 2);   // 3 steps per epoch: the stop at step 4 falls mid-epoch
        float[] a = train(dir.resolve("a"), data, 0, false);
        train(dir.resolve("b"), data, 4, false);
        float[] b = train(dir.resolve("b"), data, 0, true);
        int worst = -1;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) { worst = i; break; }
        assertEquals(-1, worst, () -> "first difference at flat index " + first(a, b));
        // metrics.jsonl holds each step once: the resumed run cut it back to the checkpoint's step
        List<Double> steps = Files.readAllLines(dir.resolve("b").resolve(RunFolder.METRICS)).stream()
                .filter(l -> l.contains("\"type\":\"step\"")).map(l -> RunFolder.numbers(l).get("step")).toList();
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0), steps);
        // and each epoch's mean loss is the uninterrupted run's, also epoch 2 that the resume split (steps 4 | 5-6)
        assertEquals(epochLosses(dir.resolve("a")), epochLosses(dir.resolve("b")), "epoch mean losses: uninterrupted vs resumed at step 4");
    }

    private static List<Double> epochLosses(Path run) throws java.io.IOException {
        return Files.readAllLines(run.resolve(RunFolder.METRICS)).stream()
                .filter(l -> l.contains("\"type\":\"epoch_end\"")).map(l -> RunFolder.numbers(l).get("loss")).toList();
    }

    @Test
    void aStopRequestSavesAfterTheCurrentStepAndResumesExactly(@TempDir Path dir) throws Exception {
        ImageDataset data = new Synthetic(48, 2);
        float[] a = train(dir.resolve("a"), data, 0, false);
        MaskedAutoencoder m = model();
        AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
        StopSignal stop = new StopSignal();
        Trainer.Result r;
        try (RunFolder run = RunFolder.open(dir.resolve("b"), null, Map.of())) {
            r = trainer(m, opt, data, Augment.mae(3), options(3, 0, 1e-3)).run(run).stopOn(stop).listen(new Trainer.Listener() {
                @Override public void onStep(Trainer.StepReport s) { if (s.step() == 2) stop.request(); }
            }).train(TrainingState.start(7));
        }
        assertEquals(Trainer.End.STOPPED, r.end());
        assertEquals(2, r.state().step());
        float[] b = train(dir.resolve("b"), data, 0, true);
        assertArrayEquals(a, b, "stopped at step 2 and resumed: first difference at " + first(a, b));
    }

    @Test
    void aStopDuringAnEpochsEndStopsThereSavedEvenAfterTheLastEpoch(@TempDir Path dir) throws Exception {
        ImageDataset data = new Synthetic(48, 2);   // 3 steps per epoch
        for (int epochs : new int[] {3, 1}) {   // a middle epoch's end, and the last epoch's (which used to report COMPLETED)
            MaskedAutoencoder m = model();
            AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
            StopSignal stop = new StopSignal();
            Trainer.Result r;
            Path out = dir.resolve("e" + epochs);
            try (RunFolder run = RunFolder.open(out, null, Map.of())) {
                // the signal arrives while the epoch's checkpoint is written (the listener runs right after the write)
                r = trainer(m, opt, data, Augment.mae(3), options(epochs, 0, 1e-3)).run(run).stopOn(stop).listen(new Trainer.Listener() {
                    @Override public void onEpochEnd(Trainer.EpochReport e) { stop.request(); }
                }).train(TrainingState.start(7));
            }
            assertEquals(Trainer.End.STOPPED, r.end(), epochs + " epochs");
            assertEquals(3, r.state().step(), "stopped at the end of the first epoch, no step into the next");
            assertEquals(3, org.mae4j.io.Checkpoint.load(out.resolve(RunFolder.CHECKPOINT)).state().step());
        }
    }

    private static String first(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return i + ": " + a[i] + " vs " + b[i];
        return "none";
    }

    @Test
    void nonFiniteLossStopsBeforeTheUpdateAndKeepsTheCheckpoint(@TempDir Path dir) throws Exception {
        ImageDataset good = new Synthetic(32, 3);
        MaskedAutoencoder m = model();
        AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
        Path ckpt = dir.resolve(RunFolder.CHECKPOINT);
        try (RunFolder run = RunFolder.open(dir, null, Map.of())) {
            trainer(m, opt, good, Augment.none(3), options(1, 0, 1e-3)).run(run).train(TrainingState.start(7));
        }
        byte[] before = Files.readAllBytes(ckpt);
        float[] params = m.params().flatParams().toFloatVector();

        ImageDataset poisoned = new Poisoned(new Synthetic(32, 3), 5);
        TrainingState at = TrainingState.of(Checkpoint.load(ckpt).state());
        TrainingDivergedException e;
        try (RunFolder run = RunFolder.open(dir, at, Map.of())) {
            e = assertThrows(TrainingDivergedException.class, () ->
                    trainer(m, opt, poisoned, Augment.none(3), options(2, 0, 1e-3)).run(run).train(at));
        }
        assertEquals(2, e.epoch(), e.getMessage());
        assertTrue(Double.isNaN(e.loss()), e.getMessage());
        assertTrue(e.getMessage().contains("epoch 2"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(ckpt), "the checkpoint must be left as it was");
        for (float v : m.params().flatParams().toFloatVector()) assertTrue(Float.isFinite(v), "a parameter became non-finite");
        assertEquals(params.length, m.params().flatParams().length());
    }

    @Test
    void aBatchWhoseActivationsCannotFitIsRefusedBeforeTraining() {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.tinyFmnist(), new Random(1));
        ImageDataset lazy = new ImageDataset() {   // 60000 images that are never read: the check comes first
            @Override public int size() { return 60000; }
            @Override public int channels() { return 1; }
            @Override public int imageSize() { return 28; }
            @Override public void image(int i, float[] dst, int offset) { throw new AssertionError("no image may be read"); }
            @Override public boolean hasLabels() { return false; }
            @Override public int label(int i) { throw new AssertionError(); }
            @Override public List<String> classNames() { return List.of(); }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(new Pretraining(m),
                new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()), TrainData.images(lazy, Augment.none(1)), new Trainer.Options(1, 60000, 1, 1e-3, 0, 0, 0, 1, 0, 0)));
        // the decoder's MLP: 60000 images x 50 tokens x 384 hidden = 1,152,000,000 floats, past 2^29
        assertTrue(e.getMessage().contains("batch 60000") && e.getMessage().contains("1,152,000,000") && e.getMessage().contains("--accum"), e.getMessage());
        // a batch that fits passes the same check
        assertDoesNotThrow(() -> new Pretraining(m).memory(256).check("batch 256", Long.MAX_VALUE));
    }

    @Test
    void optionsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer.Options(2, 8, 1, 1e-3, 0, 3, 0, 1, 0, 0));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
        MaskedAutoencoder m = model();
        e = assertThrows(IllegalArgumentException.class, () -> trainer(m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()),
                new Synthetic(8, 0), Augment.none(3), options(1, 0, 1e-3)));
        assertTrue(e.getMessage().contains("not enough for one step"), e.getMessage());
    }
}
