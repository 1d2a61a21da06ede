package org.mae4j.distributed;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.engine.Kernels;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Test support: the micro preset pretrained on synthetic images with AdamW, by one process or as one rank of
 * several; records the per-step (global) losses and the final parameters.
 */
final class MicroRun {
    static final int IMAGES = 40, BATCH = 8;

    record Result(List<Double> losses, float[] params, TrainingState state) {}

    /** epochs x 5 steps of batch 8, warmup 1 epoch; initSeed only matters on rank 0 (the others get rank 0's parameters). */
    static Trainer.Options options(int epochs, long maxSteps) {
        return options(epochs, maxSteps, 1);
    }

    /** With accum micro-batches of 8 per step (epochs x 5 / accum steps). */
    static Trainer.Options options(int epochs, long maxSteps, int accum) {
        return new Trainer.Options(epochs, BATCH, accum, 1e-2, 0, 1, 7, 1, maxSteps, 0);
    }

    /**
     * Trains from scratch (or from {@code dir}'s checkpoint when resume) over the collective; rank 0 writes into
     * dir when dir is not null.
     */
    static Result train(Collective c, Supplier<Kernels> kernels, long initSeed, Trainer.Options o, Path dir, boolean resume) throws Exception {
        return train(c, kernels, initSeed, o, dir, resume, false);
    }

    /** As above; everyRankWrites gives every rank the run folder (which the engine must refuse). */
    static Result train(Collective c, Supplier<Kernels> kernels, long initSeed, Trainer.Options o, Path dir, boolean resume,
                        boolean everyRankWrites) throws Exception {
        MaskedAutoencoder m;
        AdamW opt;
        TrainingState start;
        if (resume) {
            Checkpoint.Contents ck = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
            m = new MaskedAutoencoder(ck.config(), ck.params(), kernels.get());
            opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
            start = Trainer.restore(opt, ck, "test checkpoint");
        } else {
            m = MaskedAutoencoder.create(MaeConfig.micro(), DataType.FLOAT, kernels.get(), new Random(initSeed));
            opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
            start = TrainingState.start(o.seed());
        }
        List<Double> losses = new ArrayList<>();
        Trainer t = new Trainer(new Pretraining(m), opt, TrainData.images(new Synthetic(IMAGES, 2), Augment.mae(3)), o)
                .distributed(c)
                .listen(new Trainer.Listener() {
                    @Override public void onStep(Trainer.StepReport r) { losses.add(r.loss()); }
                });
        Trainer.Result r;
        if (dir != null && (c.rank() == 0 || everyRankWrites)) {
            try (RunFolder run = RunFolder.open(dir, resume ? start : null, Map.of())) {
                r = t.run(run).train(start);
            }
        } else {
            r = t.train(start);
        }
        return new Result(losses, m.params().flatParams().toFloatVector(), r.state());
    }

    private MicroRun() {}
}
