package org.mae4j.train;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A kill -9 at any point of an epoch's end loses no epoch row (issue 32): the crash is simulated by an error
 * thrown right after a checkpoint file lands (nothing after it runs, as after a kill; every metrics row is
 * flushed when written), then the run is resumed from what is on disk.
 */
class TrainerCrashTest {

    /** loss = g . w + 1: changes as AdamW moves w, so each epoch has its own mean. */
    private static final class Linear implements Trainable {
        final ParamStore params;
        final Kernels kernels = new CpuKernels();

        Linear(ParamStore params) { this.params = params; }
        Linear() { this(ParamStore.builder().add("w", true, 3).build(DataType.FLOAT)); }

        @Override public ParamStore params() { return params; }
        @Override public double forwardBackward(MicroBatch batch) {
            INDArray grad = params.grad("w"), w = params.param("w");
            double loss = 1;
            float[] g = {0.3f, -0.2f, 0.5f};
            for (int i = 0; i < 3; i++) {
                grad.putScalar(i, grad.getFloat(i) + g[i]);
                loss += g[i] * w.getFloat(i);
            }
            return loss;
        }
        @Override public Kernels kernels() { return kernels; }
        @Override public String kind() { return "test"; }
        @Override public MaeConfig config() { return MaeConfig.micro(); }
    }

    private static final class Crash extends RuntimeException {}

    @AfterEach
    void noHook() { Trainer.afterSave = f -> {}; }

    /** 3 epochs of 4 steps, validated every epoch (a rising score: every epoch is the best). */
    private static void train(Path dir, Linear model, AdamW opt, TrainingState start) throws Exception {
        TrainData data = TrainData.features(new float[8], new int[8], 1);
        try (RunFolder run = RunFolder.open(dir, start.step() == 0 ? null : start, Map.of())) {
            new Trainer(model, opt, data, new Trainer.Options(3, 2, 1, 1e-1, 0, 0, 0, 1, 0, 0)).run(run)
                    .evaluate(e -> Map.of("val", (double) e), "val").train(start);
        }
    }

    private static List<String> epochRows(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve(RunFolder.METRICS)).stream().filter(l -> l.contains("\"type\":\"epoch_end\""))
                .map(l -> l.replaceAll(",\"checkpoint\":\"[^\"]*\"", "")).toList();
    }

    /** Crashes at the epoch-2 write of file, then resumes from the checkpoint on disk; returns the epoch rows. */
    private static List<String> crashAtEpoch2AndResume(Path dir, String file) throws Exception {
        int[] seen = {0};
        Trainer.afterSave = f -> { if (f.getFileName().toString().equals(file) && ++seen[0] == 2) throw new Crash(); };
        Linear m = new Linear();
        assertThrows(Crash.class, () -> train(dir, m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()), TrainingState.start(0)));
        Trainer.afterSave = f -> {};
        Checkpoint.Contents c = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
        Linear resumed = new Linear(c.params());
        AdamW opt = new AdamW(resumed.params(), resumed.kernels(), AdamW.Hyper.mae());
        train(dir, resumed, opt, Trainer.restore(opt, c, "test"));
        return epochRows(dir);
    }

    @Test
    void aCrashRightAfterTheCheckpointOrTheBestLandsLosesNoEpochRow(@TempDir Path tmp) throws Exception {
        Linear m = new Linear();
        train(tmp.resolve("whole"), m, new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()), TrainingState.start(0));
        List<String> whole = epochRows(tmp.resolve("whole"));
        assertEquals(3, whole.size(), String.join("\n", whole));
        // after checkpoint.zip's rename at the end of epoch 2: the checkpoint is at epoch 2, so the row must be there already
        assertEquals(whole, crashAtEpoch2AndResume(tmp.resolve("ckpt"), RunFolder.CHECKPOINT), "crash after checkpoint.zip of epoch 2");
        // after checkpoint-best.zip's: the checkpoint is still epoch 1's; the resume cuts epoch 2's row and logs it again, once
        assertEquals(whole, crashAtEpoch2AndResume(tmp.resolve("best"), RunFolder.BEST), "crash after checkpoint-best.zip of epoch 2");
        // the best record travels with the checkpoint: the resumed run kept epoch 3 (the best) in checkpoint-best.zip
        assertEquals(3, TrainingState.of(Checkpoint.load(tmp.resolve("best").resolve(RunFolder.BEST)).state()).epoch());
        assertEquals("3", Checkpoint.load(tmp.resolve("ckpt").resolve(RunFolder.CHECKPOINT)).provenance().get("best_epoch"),
                "checkpoint.zip records the best including its own epoch");
    }
}
