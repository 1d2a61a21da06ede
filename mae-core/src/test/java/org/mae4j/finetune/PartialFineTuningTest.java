package org.mae4j.finetune;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** --trainable-blocks: a frozen tensor is bit-identical after training steps of the real engine, a trainable one moves. */
class PartialFineTuningTest {
    private static final MaeConfig CFG = MaeConfig.micro();   // depth 2
    private static final Normalization NORM = new Normalization(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.25f, 0.25f, 0.25f});

    private static Map<String, float[]> snapshot(ParamStore s) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (ParamStore.Entry e : s.entries()) m.put(e.name(), s.param(e.name()).dup().data().asFloat());
        return m;
    }

    /** Two steps of the whole small-images recipe (pad crop, flip, drop path, smoothing) with K trainable blocks. */
    private static VitClassifier train(int trainableBlocks, Path dir, Map<String, float[]> before) throws Exception {
        FinetuneRecipe r = FinetuneRecipe.smallImages().withTrainableBlocks(trainableBlocks).withBlr(0.05).withEpochs(1).withWarmupEpochs(0);
        MaskedAutoencoder mae = MaskedAutoencoder.create(CFG, new Random(3));
        VitClassifier m = VitClassifier.fromEncoder(CFG, mae.params(), r.spec(3), mae.kernels(), new Random(4));
        before.putAll(snapshot(m.params()));
        AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.finetune().withWeightDecay(r.weightDecay()), r.paramGroups(m.params(), CFG.encoder().depth()));
        try (RunFolder run = RunFolder.open(dir, null, Map.of())) {
            new Trainer(new FineTuning(m, r.mixupOf(), r.smoothing(), List.of()), opt,
                    TrainData.images(new VitClassifierTest.Bands(32, 1), r.transform(NORM)), r.withBatch(16).options(1, 0, 1, 2))
                    .run(run).describe(NORM, Map.of(), r.asMap()).train(TrainingState.start(0));
        }
        // no moment for a frozen tensor: the optimizer never touched it
        for (ParamStore.Entry e : m.params().entries()) {
            if (e.trainable()) continue;
            INDArray mv = opt.firstMoments().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(e.offset(), e.offset() + e.length()));
            assertEquals(0, mv.amaxNumber().doubleValue(), e.name() + "'s first moment");
        }
        return m;
    }

    private static boolean same(float[] a, float[] b) { return java.util.Arrays.equals(a, b); }

    @Test
    void theLastBlockAndTheHeadTrainTheRestStaysBitIdentical(@TempDir Path dir) throws Exception {
        Map<String, float[]> before = new LinkedHashMap<>();
        VitClassifier m = train(1, dir, before);
        Map<String, float[]> after = snapshot(m.params());
        for (String n : before.keySet()) {
            boolean frozen = n.startsWith("blocks.0.") || n.startsWith("patch_embed.") || n.equals("cls_token") || n.equals("pos_embed");
            assertEquals(!frozen, m.params().entry(n).trainable(), n);
            if (frozen) assertTrue(same(before.get(n), after.get(n)), n + " is frozen but changed");
        }
        for (String n : new String[] {"blocks.1.attn.qkv.weight", "blocks.1.mlp.fc2.weight", "fc_norm.weight", "head.weight"}) {
            assertFalse(same(before.get(n), after.get(n)), n + " trains but did not change");
        }
        // the flags and the count travel with the checkpoint: it reloads as the same partial classifier
        Checkpoint.Contents c = Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT));
        assertEquals("1", c.model().get("trainable_blocks"));
        assertEquals("1", c.options().get("trainable_blocks"));
        assertFalse(c.params().entry("blocks.0.attn.qkv.weight").trainable());
        VitClassifier reloaded = new VitClassifier(c.config(), FineTuning.spec(c.model(), "test"), c.params(), m.kernels());
        assertEquals(1, reloaded.spec().trainableBlocks());
    }

    @Test
    void zeroTrainableBlocksTrainsTheHeadAlone(@TempDir Path dir) throws Exception {
        Map<String, float[]> before = new LinkedHashMap<>();
        VitClassifier m = train(0, dir, before);
        Map<String, float[]> after = snapshot(m.params());
        for (String n : before.keySet()) {
            boolean head = n.startsWith("head.") || n.startsWith("fc_norm.");
            if (!head) assertTrue(same(before.get(n), after.get(n)), n + " is frozen but changed");
        }
        assertFalse(same(before.get("head.weight"), after.get("head.weight")));
    }

    @Test
    void theBackwardBelowTheFirstTrainableBlockIsSkipped() {
        VitClassifier m = VitClassifier.fromEncoder(CFG, MaskedAutoencoder.create(CFG, new Random(3)).params(),
                new VitClassifier.Spec(3, VitClassifier.Pooling.GLOBAL_AVERAGE, 0, 1), MaskedAutoencoder.defaultKernels(org.nd4j.linalg.api.buffer.DataType.FLOAT), new Random(4));
        VitClassifierTest.Bands data = new VitClassifierTest.Bands(4, 1);
        float[] x = new float[4 * 3 * 16 * 16];
        for (int i = 0; i < 4; i++) data.image(i, x, i * 3 * 16 * 16);
        m.params().zeroGrad();
        m.forward(org.nd4j.linalg.factory.Nd4j.createFromArray(x).reshape(4, 3, 16, 16), new int[] {0, 1, 2, 0}, 0.1);
        m.backward();
        for (ParamStore.Entry e : m.params().entries()) {
            double g = m.params().grad(e.name()).amaxNumber().doubleValue();
            if (e.trainable()) continue;
            assertEquals(0, g, e.name() + ": a frozen tensor gets no gradient");
        }
        assertTrue(m.params().grad("blocks.1.mlp.fc1.weight").amaxNumber().doubleValue() > 0);
    }

    @Test
    void moreTrainableBlocksThanTheDepthAreRefusedInOneLine() {
        MaskedAutoencoder mae = MaskedAutoencoder.create(CFG, new Random(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VitClassifier.fromEncoder(CFG, mae.params(),
                new VitClassifier.Spec(3, VitClassifier.Pooling.GLOBAL_AVERAGE, 0, 3), mae.kernels(), new Random(4)));
        assertEquals("trainable blocks 3 exceeds the encoder's depth 2 (give 0 to 2)", e.getMessage());
        // a store whose flags disagree with the spec (full fine-tuning's, read as partial) is refused too
        ParamStore full = VitClassifier.layout(CFG, VitClassifier.Spec.of(3)).build(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        e = assertThrows(IllegalArgumentException.class, () -> new VitClassifier(CFG, VitClassifier.Spec.of(3).withTrainableBlocks(1), full, mae.kernels()));
        assertEquals("cls_token is trainable in this store but this classifier freezes it (build the store with VitClassifier.layout)", e.getMessage());
    }
}
