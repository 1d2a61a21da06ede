package org.mae4j.train;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** ParamGroups (the reference's param_groups_lrd) and AdamW driven by groups. */
class ParamGroupsTest {

    private static ParamStore classifierStore(VitClassifier.Pooling pooling) {
        return VitClassifier.layout(MaeConfig.micro(), new VitClassifier.Spec(5, pooling, 0)).build(DataType.FLOAT);
    }

    private static Map<String, ParamGroups.Group> byTensor(List<ParamGroups.Group> groups) {
        return groups.stream().flatMap(g -> g.params().stream().map(p -> Map.entry(p, g)))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    @Test
    void layerIdsFollowTheReference() {
        assertEquals(0, ParamGroups.layerId("cls_token", 12));
        assertEquals(0, ParamGroups.layerId("pos_embed", 12));
        assertEquals(0, ParamGroups.layerId("patch_embed.proj.weight", 12));
        assertEquals(1, ParamGroups.layerId("blocks.0.norm1.weight", 12));
        assertEquals(12, ParamGroups.layerId("blocks.11.mlp.fc2.bias", 12));
        assertEquals(13, ParamGroups.layerId("fc_norm.weight", 12));
        assertEquals(13, ParamGroups.layerId("norm.bias", 12));
        assertEquals(13, ParamGroups.layerId("head.weight", 12));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ParamGroups.layerId("blocks.12.attn.qkv.weight", 12));
        assertTrue(e.getMessage().contains("depth is 12"), e.getMessage());
    }

    /** micro (depth 2), layer decay 0.5: scales 0.5^3, 0.5^2, 0.5, 1 by layer; decay only on matrices and the patch kernel. */
    @Test
    void scalesAndDecayOfEveryTensor() {
        for (VitClassifier.Pooling pooling : VitClassifier.Pooling.values()) {
            ParamStore s = classifierStore(pooling);
            List<ParamGroups.Group> groups = ParamGroups.layerDecay(s.entries(), 0.5, 0.1, 2, ParamGroups.VIT_NO_WEIGHT_DECAY);
            Map<String, ParamGroups.Group> g = byTensor(groups);
            assertEquals(s.entries().size(), g.size(), "every tensor in one group");
            assertEquals(0.125, g.get("cls_token").lrScale());
            assertEquals(0.0, g.get("cls_token").weightDecay(), "cls_token is in no_weight_decay");
            assertEquals(0.0, g.get("pos_embed").weightDecay(), "pos_embed is in no_weight_decay");
            assertEquals(0.125, g.get("patch_embed.proj.weight").lrScale());
            assertEquals(0.1, g.get("patch_embed.proj.weight").weightDecay());
            assertEquals(0.0, g.get("patch_embed.proj.bias").weightDecay());
            assertEquals(0.25, g.get("blocks.0.attn.qkv.weight").lrScale());
            assertEquals(0.1, g.get("blocks.0.attn.qkv.weight").weightDecay());
            assertEquals(0.0, g.get("blocks.0.norm2.weight").weightDecay(), "1-D tensors do not decay");
            assertEquals(0.5, g.get("blocks.1.mlp.fc1.bias").lrScale(), "the top block gets layer_decay^1");
            assertEquals(1.0, g.get("head.weight").lrScale());
            assertEquals(0.1, g.get("head.weight").weightDecay());
            assertEquals(0.0, g.get("head.bias").weightDecay());
            String top = pooling == VitClassifier.Pooling.GLOBAL_AVERAGE ? "fc_norm.weight" : "norm.weight";
            assertEquals(1.0, g.get(top).lrScale());
            assertEquals(0.0, g.get(top).weightDecay());
            // 4 layers x {decay, no decay}
            assertEquals(8, groups.size());
            assertEquals("layer_0_no_decay", groups.get(0).name(), "first appearance order: cls_token comes first");
        }
    }

    @Test
    void frozenTensorsAreLeftOutAndUniformIsThePretrainingRule() {
        ParamStore mae = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        Map<String, ParamGroups.Group> g = byTensor(ParamGroups.layerDecay(mae.entries(), 0.75, 0.05, 2, Set.of()));
        assertFalse(g.containsKey("pos_embed"), "frozen in pretraining");
        assertFalse(g.containsKey("decoder_pos_embed"));
        Map<String, ParamGroups.Group> u = byTensor(ParamGroups.uniform(mae.entries(), 0.05));
        for (ParamStore.Entry e : mae.entries()) {
            if (!e.trainable()) { assertFalse(u.containsKey(e.name())); continue; }
            assertEquals(1.0, u.get(e.name()).lrScale());
            assertEquals(WeightDecayPolicy.decays(e) ? 0.05 : 0.0, u.get(e.name()).weightDecay(), e.name());
        }
        assertEquals(0.05, u.get("cls_token").weightDecay(), "pretraining decays cls_token ([1,1,D])");
    }

    /**
     * The first AdamW step from zero moments is p(1 - lr_p wd) - lr_p g / (|g| + eps) with lr_p = lr * scale
     * (m / bc1 = g and sqrt(v / bc2) = |g| exactly): checked tensor by tensor on both kernel paths.
     */
    @Test
    void groupedAdamWAppliesEachGroupsScaleAndDecay() {
        for (Kernels k : org.mae4j.engine.Backends.isCpu() ? new Kernels[] {new CpuKernels(), new Nd4jKernels()} : new Kernels[] {new Nd4jKernels()}) {
            ParamStore s = classifierStore(VitClassifier.Pooling.GLOBAL_AVERAGE);
            Random rng = new Random(4);
            INDArray p0 = s.flatParams(), g0 = s.flatGrads();
            for (long i = 0; i < p0.length(); i++) { p0.putScalar(i, rng.nextGaussian()); g0.putScalar(i, rng.nextGaussian() * 1e-2); }
            INDArray before = p0.dup();
            List<ParamGroups.Group> groups = ParamGroups.layerDecay(s.entries(), 0.75, 0.05, 2, ParamGroups.VIT_NO_WEIGHT_DECAY);
            AdamW opt = new AdamW(s, k, AdamW.Hyper.finetune(), groups);
            double lr = 1e-3;
            opt.step(lr);
            Map<String, ParamGroups.Group> g = byTensor(groups);
            for (ParamStore.Entry e : s.entries()) {
                double lrP = lr * g.get(e.name()).lrScale(), wd = g.get(e.name()).weightDecay();
                for (long i = e.offset(); i < e.offset() + e.length(); i += 7) {
                    double p = before.getDouble(i), gi = g0.getDouble(i);
                    double want = p * (1 - lrP * wd) - lrP * gi / (Math.abs(gi) + 1e-8);
                    assertEquals(want, p0.getDouble(i), 1e-6 * lrP + 3e-7 * Math.abs(p), e.name() + "[" + (i - e.offset()) + "] on " + k.getClass().getSimpleName());
                }
            }
            assertEquals(1, opt.stepCount());
            assertEquals(groups, opt.groups());
        }
    }

    @Test
    void groupedAdamWRejectsBadGroups() {
        ParamStore s = classifierStore(VitClassifier.Pooling.GLOBAL_AVERAGE);
        Kernels k = new Nd4jKernels();
        List<ParamGroups.Group> ok = ParamGroups.layerDecay(s.entries(), 0.75, 0.05, 2, ParamGroups.VIT_NO_WEIGHT_DECAY);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AdamW(s, k, AdamW.Hyper.finetune(), ok.subList(1, ok.size())));
        assertTrue(e.getMessage().contains("cls_token") && e.getMessage().contains("no parameter group"), e.getMessage());
        List<ParamGroups.Group> twice = new java.util.ArrayList<>(ok);
        twice.add(new ParamGroups.Group("again", 0, 1, 0, List.of("head.bias")));
        e = assertThrows(IllegalArgumentException.class, () -> new AdamW(s, k, AdamW.Hyper.finetune(), twice));
        assertTrue(e.getMessage().contains("two groups"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AdamW(s, k, AdamW.Hyper.finetune().withWeightDecay(0.1), ok));
        assertTrue(e.getMessage().contains("weight decay 0.05"), e.getMessage());
        ParamStore mae = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        e = assertThrows(IllegalArgumentException.class, () -> new AdamW(mae, k, AdamW.Hyper.mae(), List.of(new ParamGroups.Group("x", 0, 1, 0, List.of("pos_embed")))));
        assertTrue(e.getMessage().contains("frozen"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ParamGroups.layerDecay(s.entries(), 0, 0.05, 2, Set.of()));
    }

    @Test
    void finetunePresetIsTheReferences() {
        AdamW.Hyper h = AdamW.Hyper.finetune();
        assertEquals(0.9, h.beta1());
        assertEquals(0.999, h.beta2());
        assertEquals(1e-8, h.eps());
        assertEquals(0.05, h.weightDecay());
    }
}
