package org.mae4j.distributed;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Mixup;
import org.mae4j.finetune.FineTuning;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.Collective;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Fine-tuning through the same engine in data parallel: with drop path on (per-sample draws that must follow the
 * image, not the rank), 2 ranks train what one process trains on the same global batch. Mixup is off here:
 * like the reference under DistributedDataParallel, each process mixes its own share (pairs i and n-1-i of the
 * share), so a mixed 2-rank run is a different, equally valid, run.
 */
class DataParallelFineTuningTest {

    /** Synthetic images with 3 classes. */
    private record Labeled(Synthetic images) implements ImageDataset {
        @Override public int size() { return images.size(); }
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return true; }
        @Override public int label(int i) { return i % 3; }
        @Override public List<String> classNames() { return List.of("a", "b", "c"); }
        @Override public void image(int i, float[] dst, int offset) { images.image(i, dst, offset); }
    }

    static final double DROP_PATH = 0.3;
    private record Run(List<Double> losses, float[] params, org.mae4j.engine.ParamStore layout) {}

    private static Run fineTune(Collective c, long initSeed) throws Exception {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, MaskedAutoencoder.defaultKernels(DataType.FLOAT), new Random(initSeed));
        VitClassifier model = VitClassifier.fromEncoder(cfg, mae.params(), new VitClassifier.Spec(3, VitClassifier.Pooling.GLOBAL_AVERAGE, DROP_PATH),
                mae.kernels(), new Random(initSeed + 1));
        AdamW opt = new AdamW(model.params(), model.kernels(), AdamW.Hyper.finetune());
        List<Double> losses = new ArrayList<>();
        Trainer.Options o = new Trainer.Options(1, 8, 1, 1e-2, 0, 0.2, 5, 1, 0, 0);
        new Trainer(new FineTuning(model, Mixup.off(0.1), 0.1, List.of("a", "b", "c")), opt,
                TrainData.images(new Labeled(new Synthetic(40, 4)), Augment.mae(3)), o)
                .distributed(c)
                .listen(new Trainer.Listener() {
                    @Override public void onStep(Trainer.StepReport r) { losses.add(r.loss()); }
                })
                .train(TrainingState.start(o.seed()));
        return new Run(losses, model.params().flatParams().toFloatVector(), model.params());
    }

    @Test
    void twoRanksFineTuneWhatOneProcessFineTunes() throws Exception {
        Run one = fineTune(Collective.LOCAL, 3);
        List<Run> two = Ranks.values(Ranks.asThreads(2, Duration.ofSeconds(60), c -> fineTune(c, c.rank() == 0 ? 3 : 77)));
        assertEquals(5, one.losses().size());
        for (Run r : two) {
            DataParallelParityTest.assertLossesClose(one.losses(), r.losses());
            DataParallelParityTest.assertParamsClose(one.params(), r.params(), "fine-tuning", one.layout());
        }
        assertArrayEquals(two.get(0).params(), two.get(1).params(), "both ranks took the identical optimizer steps");
    }
}
