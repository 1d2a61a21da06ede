package org.mae4j.finetune;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.FiniteDifferences;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VitClassifierTest {

    /** Central finite differences in double precision on the portable kernels, as GradientCheckTest does for the MAE. */
    @Test
    void gradientsMatchFiniteDifferences() {
        MaeConfig cfg = MaeConfig.micro();
        Random rng = new Random(21);
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.DOUBLE, new Nd4jKernels(), rng);
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), 3, new Nd4jKernels(), rng);
        ParamStore store = m.params();
        // A head far from zero, so that the encoder's gradients are not vanishingly small.
        store.param("head.weight").assign(FiniteDifferences.gaussian(rng, 3, 32).muli(0.5));
        INDArray images = FiniteDifferences.gaussian(rng, 2, 3, 16, 16);
        int[] labels = {2, 0};
        m.forward(images, labels, 0.1);
        store.zeroGrad();
        m.backward();
        INDArray analytic = store.flatGrads().dup();
        // The floor 1e-3 keeps FD round-off (~1e-9 with h = 1e-6) on exactly-zero gradients, such as the key
        // biases' (softmax ignores a constant added to every key), from counting as error.
        FiniteDifferences.Result r = FiniteDifferences.check(store, analytic, () -> m.forward(images, labels, 0.1), 3, 1e-3, rng);
        double worst = r.worst();
        String at = r.at();
        assertTrue(worst < 1e-5, "worst relative error " + worst + " at " + at);
    }

    @Test
    void encoderIsCopiedFromTheMaeAndTheHeadStartsNearZero() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), 4, mae.kernels(), new Random(2));
        assertEquals(mae.params().param("blocks.1.mlp.fc2.weight"), m.params().param("blocks.1.mlp.fc2.weight"));
        assertEquals(mae.params().param("pos_embed"), m.params().param("pos_embed"));
        assertFalse(m.params().contains("decoder_embed.weight"));
        assertTrue(m.params().param("head.weight").amaxNumber().doubleValue() < 1e-3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16), new int[] {0, 4}, 0));
        assertTrue(e.getMessage().contains("label 4"), e.getMessage());
    }

    @Test
    void predictIsTheArgmaxOfTheTrainingForwardsLogits() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), 4, mae.kernels(), new Random(2));
        m.params().param("head.weight").assign(Nd4j.rand(DataType.FLOAT, 4, 32).subi(0.5));   // distinct logits
        INDArray images = Nd4j.rand(DataType.FLOAT, 5, 3, 16, 16);
        double[] logits = m.logits(images);   // through the training forward
        int[] pred = m.predict(images);       // through the encoder's inference pass
        for (int i = 0; i < 5; i++) {
            int best = 0;
            for (int c = 1; c < 4; c++) if (logits[i * 4 + c] > logits[i * 4 + best]) best = c;
            assertEquals(best, pred[i], "image " + i);
        }
    }

    /** Images whose class sets which horizontal band is bright; learnable from scratch in a few epochs. */
    record Bands(int size, long seed) implements ImageDataset {
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return true; }
        @Override public int label(int i) { return i % 3; }
        @Override public List<String> classNames() { return List.of("top", "middle", "bottom"); }
        @Override public void image(int i, float[] dst, int off) {
            Random r = new Random(seed * 1000 + i);
            int band = label(i);
            for (int c = 0; c < 3; c++) for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
                dst[off + (c * 16 + y) * 16 + x] = (float) ((y / 6 == band ? 0.8 : 0.2) + 0.1 * r.nextGaussian());
            }
        }
    }
}
