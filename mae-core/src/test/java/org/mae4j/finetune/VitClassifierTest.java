package org.mae4j.finetune;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.engine.FiniteDifferences;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.nn.DropPath;
import org.mae4j.train.AdamW;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VitClassifierTest {

    private static VitClassifier doubleModel(VitClassifier.Spec spec, Random rng) {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.DOUBLE, new Nd4jKernels(), rng);
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), spec, new Nd4jKernels(), rng);
        ParamStore store = m.params();
        // A head far from zero, so that the encoder's gradients are not vanishingly small; non-zero biases and
        // non-unit gammas, so that every term of the backward is exercised.
        store.param("head.weight").assign(FiniteDifferences.gaussian(rng, spec.classes(), 32).muli(0.5));
        for (ParamStore.Entry e : store.entries()) {
            if (e.rank() == 1) store.param(e.name()).assign(FiniteDifferences.gaussian(rng, e.shape()).muli(0.12).addi(e.name().endsWith("weight") ? 1 : 0));
        }
        return m;
    }

    /**
     * A mask source that repeats the same decisions at every forward (calls per forward: two per dropping block),
     * so that finite differences see one fixed function; it drops a different sample in each branch.
     */
    private static DropPath.MaskSource fixedMasks(int callsPerForward) {
        int[] call = {0};
        return (p, keep) -> {
            int c = call[0]++ % callsPerForward;
            for (int b = 0; b < keep.length; b++) keep[b] = b != c % keep.length;
        };
    }

    /**
     * Central finite differences in double precision on the portable kernels, as GradientCheckTest does for the MAE,
     * for both heads, hard labels with smoothing and soft targets, with and without drop path. pos_embed is
     * trainable and probed like every other tensor.
     */
    @ParameterizedTest(name = "{0}, soft targets {1}, drop path {2}")
    @CsvSource({"GLOBAL_AVERAGE, false, 0", "GLOBAL_AVERAGE, true, 0", "CLS_TOKEN, false, 0", "CLS_TOKEN, true, 0",
            "GLOBAL_AVERAGE, false, 0.5", "CLS_TOKEN, true, 0.5"})
    void gradientsMatchFiniteDifferences(VitClassifier.Pooling pooling, boolean soft, double dropPath) {
        Random rng = new Random(21);
        VitClassifier m = doubleModel(new VitClassifier.Spec(3, pooling, dropPath), rng);
        ParamStore store = m.params();
        INDArray images = FiniteDifferences.gaussian(rng, 2, 3, 16, 16);
        int[] labels = {2, 0};
        float[] targets = {0.1f, 0.3f, 0.6f, 0.7f, 0.2f, 0.1f};
        DropPath.MaskSource masks = dropPath > 0 ? fixedMasks(2) : null;   // micro: depth 2, only block 1 drops
        java.util.function.DoubleSupplier loss = soft ? () -> m.forward(images, targets, masks) : () -> m.forward(images, labels, 0.1, masks);
        loss.getAsDouble();
        store.zeroGrad();
        m.backward();
        INDArray analytic = store.flatGrads().dup();
        // The floor 1e-3 keeps FD round-off (~1e-9 with h = 1e-6) on exactly-zero gradients, such as the key
        // biases' (softmax ignores a constant added to every key), from counting as error.
        FiniteDifferences.Result r = FiniteDifferences.check(store, analytic, loss, 3, 1e-3, rng);
        System.out.printf("classifier gradient check (%s, soft %s, drop path %s): worst %.2e at %s%n", pooling, soft, dropPath, r.worst(), r.at());
        assertTrue(r.worst() < 1e-5, "worst relative error " + r.worst() + " at " + r.at());
    }

    /** Soft-target cross-entropy from the logits by hand; hard labels with smoothing s are the targets (1-s) onehot + s/C. */
    @Test
    void lossesAreTheSoftTargetCrossEntropy() {
        VitClassifier m = doubleModel(VitClassifier.Spec.of(4), new Random(5));
        INDArray images = FiniteDifferences.gaussian(new Random(6), 3, 3, 16, 16);
        float[] t = {0.25f, 0.25f, 0.5f, 0, 1, 0, 0, 0, 0.1f, 0.2f, 0.3f, 0.4f};
        double soft = m.forward(images, t);
        double[] z = m.lastLogits().dup().data().asDouble();
        double want = 0;
        for (int b = 0; b < 3; b++) {
            double sum = 0;
            for (int c = 0; c < 4; c++) sum += Math.exp(z[b * 4 + c]);
            for (int c = 0; c < 4; c++) want -= t[b * 4 + c] * (z[b * 4 + c] - Math.log(sum));
        }
        assertEquals(want / 3, soft, 1e-12);

        double s = 0.1;
        double hard = m.forward(images, new int[] {2, 1, 3}, s);
        int[] y = {2, 1, 3};
        want = 0;
        for (int b = 0; b < 3; b++) {
            double sum = 0;
            for (int c = 0; c < 4; c++) sum += Math.exp(z[b * 4 + c]);
            double nll = -(z[b * 4 + y[b]] - Math.log(sum)), mean = 0;
            for (int c = 0; c < 4; c++) mean -= (z[b * 4 + c] - Math.log(sum)) / 4;
            want += (1 - s) * nll + s * mean;   // timm's LabelSmoothingCrossEntropy
        }
        assertEquals(want / 3, hard, 1e-12);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(images, new float[11]));
        assertTrue(e.getMessage().contains("11"), e.getMessage());
        float[] negative = t.clone();
        negative[5] = -0.5f;
        e = assertThrows(IllegalArgumentException.class, () -> m.forward(images, negative));
        assertTrue(e.getMessage().contains("image 1, class 1"), e.getMessage());
    }

    /**
     * Drop path against an independent construction: keeping every sample multiplies block 1's branches by
     * 1/keep, which is the plain model with block 1's attn.proj and mlp.fc2 (weight and bias) scaled by 1/keep;
     * dropping every sample is that model with them zeroed (the branches contribute nothing).
     */
    @ParameterizedTest(name = "keep all {0}")
    @CsvSource({"true", "false"})
    void dropPathScalesOrRemovesWholeBranches(boolean keepAll) {
        double rate = 0.3;
        VitClassifier dp = doubleModel(new VitClassifier.Spec(3, VitClassifier.Pooling.GLOBAL_AVERAGE, rate), new Random(8));
        assertArrayEquals(new double[] {0, (float) rate}, dp.dropPathRates());
        VitClassifier plain = new VitClassifier(dp.config(), dp.spec().withDropPath(0),
                copy(dp.params(), VitClassifier.layout(dp.config(), dp.spec())), new Nd4jKernels());
        double factor = keepAll ? 1 / (1 - (float) rate) : 0;
        for (String t : List.of("blocks.1.attn.proj.weight", "blocks.1.attn.proj.bias", "blocks.1.mlp.fc2.weight", "blocks.1.mlp.fc2.bias")) {
            plain.params().param(t).muli(factor);
        }
        INDArray images = FiniteDifferences.gaussian(new Random(9), 3, 3, 16, 16);
        int[] calls = {0};
        dp.forward(images, new int[] {0, 1, 2}, 0, (p, keep) -> { calls[0]++; assertEquals((float) rate, p, 0); java.util.Arrays.fill(keep, keepAll); });
        plain.forward(images, new int[] {0, 1, 2}, 0);
        assertEquals(2, calls[0], "one call per branch of the one dropping block");
        double diff = dp.lastLogits().sub(plain.lastLogits()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-6 * plain.lastLogits().amaxNumber().doubleValue(), "logits differ by " + diff);

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> dp.forward(images, new int[] {0, 1, 2}, 0));
        assertTrue(e.getMessage().contains("mask source"), e.getMessage());
    }

    private static ParamStore copy(ParamStore from, ParamStore.Builder layout) {
        ParamStore s = layout.build(from.dataType());
        for (ParamStore.Entry e : s.entries()) s.set(e.name(), from.param(e.name()));
        return s;
    }

    @Test
    void referenceSpecIsMainFinetunesDefaults() {
        VitClassifier.Spec s = VitClassifier.Spec.reference(10);
        assertEquals(VitClassifier.Pooling.GLOBAL_AVERAGE, s.pooling());
        assertEquals(0.1, s.dropPath());
        assertThrows(IllegalArgumentException.class, () -> new VitClassifier.Spec(1, VitClassifier.Pooling.CLS_TOKEN, 0));
        assertThrows(IllegalArgumentException.class, () -> VitClassifier.Spec.of(3).withDropPath(1));
    }

    @Test
    void dropPathRatesAreTimmsLinspace() {
        assertArrayEquals(new double[] {0}, DropPath.rates(0.1, 1));
        double[] r = DropPath.rates(0.1, 12);
        assertEquals(0, r[0]);
        assertEquals((float) 0.1, r[11], 0);
        for (int i = 0; i < 12; i++) assertEquals((float) (0.1 * i / 11), r[i], 0, "block " + i);
        assertThrows(IllegalArgumentException.class, () -> DropPath.rates(1, 3));
    }

    @Test
    void randomMasksKeepTheRightFraction() {
        DropPath.MaskSource m = DropPath.MaskSource.random(new Random(3));
        boolean[] keep = new boolean[1000];
        int kept = 0;
        for (int i = 0; i < 20; i++) {
            m.draw(0.3, keep);
            for (boolean k : keep) if (k) kept++;
        }
        assertEquals(0.7, kept / 20000.0, 0.015);   // 5 standard deviations of a binomial(20000, 0.7) fraction
    }

    /** The cls-token head's features are the cls row of the MAE encoder's normalised output (no masking). */
    @Test
    void clsTokenFeaturesAreTheEncodersNormalisedClsRow() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.DOUBLE, new Nd4jKernels(), new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), new VitClassifier.Spec(4, VitClassifier.Pooling.CLS_TOKEN, 0),
                new Nd4jKernels(), new Random(2));
        INDArray images = FiniteDifferences.gaussian(new Random(3), 2, 3, 16, 16);
        m.forward(images, new int[] {0, 1}, 0);
        INDArray tokens = mae.encode(images);   // [N, 1+L, D]
        for (int b = 0; b < 2; b++) {
            double d = m.lastFeatures().getRow(b).sub(tokens.slice(b).getRow(0)).amaxNumber().doubleValue();
            assertTrue(d < 1e-12, "image " + b + ": " + d);
        }
        assertTrue(m.params().contains("norm.weight"));
        assertFalse(m.params().contains("fc_norm.weight"));
    }

    @Test
    void encoderIsCopiedFromTheMaeAndTheHeadStartsNearZero() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), 4, mae.kernels(), new Random(2));
        assertEquals(VitClassifier.Pooling.GLOBAL_AVERAGE, m.spec().pooling(), "the reference's default head");
        assertEquals(mae.params().param("blocks.1.mlp.fc2.weight"), m.params().param("blocks.1.mlp.fc2.weight"));
        assertEquals(mae.params().param("pos_embed"), m.params().param("pos_embed"));
        assertTrue(m.params().entry("pos_embed").trainable(), "pos_embed trains in fine-tuning");
        assertFalse(m.params().contains("decoder_embed.weight"));
        assertFalse(m.params().contains("norm.weight"), "global pooling deletes the final norm");
        assertEquals(32.0, m.params().param("fc_norm.weight").sumNumber().doubleValue());
        assertEquals(0.0, m.params().param("fc_norm.bias").amaxNumber().doubleValue());
        assertEquals(0.0, m.params().param("head.bias").amaxNumber().doubleValue());
        double std = m.params().param("head.weight").stdNumber().doubleValue();
        assertTrue(std > 1.5e-5 && std < 2.5e-5, "head weight std " + std + " (want 2e-5)");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16), new int[] {0, 4}, 0));
        assertTrue(e.getMessage().contains("label 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.forward(Nd4j.rand(DataType.FLOAT, 2, 1, 16, 16), new int[] {0, 1}, 0));
        assertTrue(e.getMessage().contains("[N, 3, 16, 16]"), e.getMessage());
    }

    @Test
    void predictIsTheArgmaxOfTheTrainingForwardsLogits() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), 4, mae.kernels(), new Random(2));
        m.params().param("head.weight").assign(Nd4j.rand(DataType.FLOAT, 4, 32).subi(0.5));   // distinct logits
        INDArray images = Nd4j.rand(DataType.FLOAT, 5, 3, 16, 16);
        m.forward(images, new int[] {0, 1, 2, 3, 0}, 0);
        double[] logits = m.lastLogits().dup().data().asDouble();   // the training forward
        int[] pred = m.predict(images);                             // the inference pass
        double[] eval = m.logits(images);
        for (int i = 0; i < 5; i++) {
            int best = 0;
            for (int c = 1; c < 4; c++) if (logits[i * 4 + c] > logits[i * 4 + best]) best = c;
            assertEquals(best, pred[i], "image " + i);
            for (int c = 0; c < 4; c++) assertEquals(logits[i * 4 + c], eval[i * 4 + c], 1e-5, "logit " + c + " of image " + i);
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
