package org.mae4j.train;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The training loop on the micro model: learning happens, resume is exact, divergence keeps the checkpoint. */
class PretrainLoopTest {

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

    private static PretrainLoop.Options options(int epochs, long maxSteps, double blr) {
        return new PretrainLoop.Options(epochs, 8, 2, blr, 0, 1, AdamW.Hyper.mae(), 7, 1, maxSteps);
    }

    private static MaskedAutoencoder model() {
        return MaskedAutoencoder.create(CFG, new Random(3));
    }

    @Test
    void lossFallsAndStateCountsSteps(@TempDir Path dir) throws Exception {
        MaskedAutoencoder m = model();
        ImageDataset data = new Synthetic(64, 1);
        PretrainLoop loop = new PretrainLoop(m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()), data, Augment.none(3),
                options(6, 0, 1e-2), dir.resolve("ckpt.zip"), Map.of());
        assertEquals(4, loop.stepsPerEpoch(), "64 images / (8 x 2 accumulation)");
        List<Double> epochLoss = new ArrayList<>();
        List<Double> lrs = new ArrayList<>();
        TrainingState end = loop.run(TrainingState.start(7), new PretrainLoop.Listener() {
            @Override public void onStep(PretrainLoop.StepReport r) { lrs.add(r.lr()); }
            @Override public void onEpochEnd(int epoch, double loss, TrainingState s, Path ckpt) { epochLoss.add(loss); }
        });
        assertEquals(new TrainingState(6, 24, 48, 7), end);
        assertEquals(0.0, lrs.get(0), "warmup starts at zero");
        assertEquals(1e-2 * 16 / 256, lrs.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), 1e-12, "peak lr = blr x 16/256");
        assertTrue(epochLoss.get(5) < 0.8 * epochLoss.get(0), "loss should fall by 20%: " + epochLoss);
        Checkpoint.Contents c = Checkpoint.load(dir.resolve("ckpt.zip"));
        assertEquals(end, c.state());
    }

    @Test
    void resumedRunMatchesUninterruptedRunExactly(@TempDir Path dir) throws Exception {
        ImageDataset data = new Synthetic(48, 2);   // 3 steps per epoch: the stop at step 4 falls mid-epoch
        MaskedAutoencoder straight = model();
        new PretrainLoop(straight, new AdamW(straight.params(), straight.kernels(), AdamW.Hyper.mae()), data, Augment.mae(3),
                options(3, 0, 1e-3), dir.resolve("a.zip"), Map.of()).run(TrainingState.start(7), null);

        MaskedAutoencoder first = model();
        Path ckpt = dir.resolve("b.zip");
        TrainingState mid = new PretrainLoop(first, new AdamW(first.params(), first.kernels(), AdamW.Hyper.mae()), data, Augment.mae(3),
                options(3, 4, 1e-3), ckpt, Map.of()).run(TrainingState.start(7), null);
        assertEquals(new TrainingState(1, 4, 8, 7), mid);

        Checkpoint.Contents c = Checkpoint.load(ckpt);
        MaskedAutoencoder resumed = new MaskedAutoencoder(c.config(), c.params(), MaskedAutoencoder.defaultKernels(DataType.FLOAT));
        AdamW opt = new AdamW(c.params(), resumed.kernels(), c.optimizer());
        opt.restore(c.state().step(), c.firstMoments(), c.secondMoments());
        new PretrainLoop(resumed, opt, data, Augment.mae(3), options(3, 0, 1e-3), ckpt, Map.of()).run(c.state(), null);

        float[] a = straight.params().flatParams().toFloatVector(), b = resumed.params().flatParams().toFloatVector();
        int worst = -1;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) { worst = i; break; }
        assertEquals(-1, worst, () -> "first difference at flat index " + worst(a, b));
    }

    private static String worst(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return i + ": " + a[i] + " vs " + b[i];
        return "none";
    }

    @Test
    void nonFiniteLossStopsBeforeTheUpdateAndKeepsTheCheckpoint(@TempDir Path dir) throws Exception {
        ImageDataset good = new Synthetic(32, 3);
        MaskedAutoencoder m = model();
        AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
        Path ckpt = dir.resolve("c.zip");
        new PretrainLoop(m, opt, good, Augment.none(3), options(1, 0, 1e-3), ckpt, Map.of()).run(TrainingState.start(7), null);
        byte[] before = Files.readAllBytes(ckpt);
        float[] params = m.params().flatParams().toFloatVector();

        ImageDataset poisoned = new Poisoned(new Synthetic(32, 3), 5);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () ->
                new PretrainLoop(m, opt, poisoned, Augment.none(3), options(2, 0, 1e-3), ckpt, Map.of())
                        .run(new TrainingState(1, 2, 4, 7), null));
        assertEquals(2, e.epoch(), e.getMessage());
        assertTrue(Double.isNaN(e.loss()), e.getMessage());
        assertTrue(e.getMessage().contains("epoch 2"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(ckpt), "the checkpoint must be left as it was");
        // The image with the NaN was in the first batch or a later one; either way no update used a NaN.
        for (float v : m.params().flatParams().toFloatVector()) assertTrue(Float.isFinite(v), "a parameter became non-finite");
        assertEquals(params.length, m.params().flatParams().length());
    }

    @Test
    void optionsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PretrainLoop.Options(2, 8, 1, 1e-3, 0, 3, AdamW.Hyper.mae(), 0, 1, 0));
        assertTrue(e.getMessage().contains("warmup"), e.getMessage());
        MaskedAutoencoder m = model();
        e = assertThrows(IllegalArgumentException.class, () -> new PretrainLoop(m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()),
                new Synthetic(8, 0), Augment.none(3), options(1, 0, 1e-3), null, Map.of()));
        assertTrue(e.getMessage().contains("not enough for one step"), e.getMessage());
    }
}
