package org.mae4j.finetune;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.FineTuneTransform;
import org.mae4j.data.Mixup;
import org.mae4j.data.RandAugment;
import org.mae4j.data.RandomErasing;
import org.mae4j.data.Transform;
import org.mae4j.train.ParamGroups;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Fine-tuning on the one engine: it learns, it keeps the best epoch, and a stopped run of the full recipe resumes bit for bit. */
class FineTuningTest {
    private static final MaeConfig CFG = MaeConfig.micro();
    private static final Normalization NONE = new Normalization(new float[] {0, 0, 0}, new float[] {1, 1, 1});

    private static Trainer.Options options(int epochs, long maxSteps) {
        return new Trainer.Options(epochs, 16, 1, 0.05, 0, 1, 0, 1, maxSteps, 0);
    }

    private static VitClassifier fresh() {
        MaskedAutoencoder mae = MaskedAutoencoder.create(CFG, new Random(3));
        return VitClassifier.fromEncoder(CFG, mae.params(), 3, mae.kernels(), new Random(4));
    }

    @Test
    void fineTuningLearnsAnEasyTaskAndKeepsTheBestEpoch(@TempDir Path dir) throws Exception {
        VitClassifier m = fresh();
        VitClassifierTest.Bands val = new VitClassifierTest.Bands(48, 2);
        List<Double> acc = new ArrayList<>();
        try (RunFolder run = RunFolder.open(dir, null, Map.of())) {
            new Trainer(new FineTuning(m, Mixup.off(0.1), 0.1, List.of("top", "middle", "bottom")), new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae()),
                    TrainData.images(new VitClassifierTest.Bands(96, 1), Augment.none(3)), options(4, 0))
                    .run(run).describe(NONE, Map.of(), Map.of())
                    .evaluate(e -> {
                        double a = Classification.score(m, val, NONE, 16).top1();
                        acc.add(a);
                        return Map.of("val_top1", a);
                    }, "val_top1")
                    .train(TrainingState.start(0));
        }
        assertEquals(4, acc.size());
        assertTrue(acc.get(3) > 0.9, "validation accuracy after 4 epochs: " + acc);
        // the best checkpoint holds the best epoch's classifier: scoring it again gives the best accuracy seen
        Checkpoint.Contents best = Checkpoint.load(dir.resolve(RunFolder.BEST));
        assertEquals("finetune", best.kind());
        assertEquals("3", best.model().get("classes"));
        VitClassifier reloaded = new VitClassifier(best.config(), FineTuning.spec(best.model(), "best"), best.params(), m.kernels());
        double max = acc.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        assertEquals(max, Classification.score(reloaded, val, best.normalization(), 16).top1(), 1e-12);
        assertEquals(NONE, best.normalization());
    }

    /** The whole reference recipe, so that every random draw (crop, RandAugment, erasing, mixup, drop path) is resumed. */
    private static VitClassifier recipe() {
        MaskedAutoencoder mae = MaskedAutoencoder.create(CFG, new Random(3));
        return VitClassifier.fromEncoder(CFG, mae.params(), VitClassifier.Spec.reference(3), mae.kernels(), new Random(4));
    }

    private static float[] train(Path dir, long maxSteps, boolean resume) throws Exception {
        VitClassifier m;
        AdamW opt;
        TrainingState start;
        if (resume) {
            Checkpoint.Contents c = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
            m = new VitClassifier(c.config(), FineTuning.spec(c.model(), "test"), c.params(), MaskedAutoencoder.defaultKernels(DataType.FLOAT));
            start = null;
        } else {
            m = recipe();
            start = TrainingState.start(0);
        }
        opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.finetune(),
                ParamGroups.layerDecay(m.params().entries(), 0.75, 0.05, CFG.encoder().depth(), ParamGroups.VIT_NO_WEIGHT_DECAY));
        if (resume) start = Trainer.restore(opt, Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT)), "test");
        Transform t = new FineTuneTransform(FineTuneTransform.referenceCrop(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f}),
                RandAugment.mae(new float[] {0.5f, 0.5f, 0.5f}), RandomErasing.mae());
        try (RunFolder run = RunFolder.open(dir, resume ? start : null, Map.of())) {
            new Trainer(new FineTuning(m, Mixup.mae(), 0.1, List.of()), opt, TrainData.images(new VitClassifierTest.Bands(80, 1), t), options(2, maxSteps))
                    .run(run).train(start);
        }
        return m.params().flatParams().toFloatVector();
    }

    @Test
    void aRunStoppedMidEpochResumesBitIdentically(@TempDir Path dir) throws Exception {
        float[] straight = train(dir.resolve("a"), 0, false);
        train(dir.resolve("b"), 3, false);   // 5 steps per epoch: stops mid-epoch 1
        assertEquals(3, Checkpoint.load(dir.resolve("b").resolve(RunFolder.CHECKPOINT)).state().step());
        float[] resumed = train(dir.resolve("b"), 0, true);
        assertArrayEquals(straight, resumed);
        assertTrue(Files.exists(dir.resolve("b").resolve(RunFolder.METRICS)));
    }
}
