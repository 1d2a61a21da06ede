package org.mae4j.finetune;

import org.junit.jupiter.api.Test;
import org.mae4j.config.Normalization;
import org.mae4j.data.RandAugment;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The typed fine-tuning recipe: its presets, lookup, copies, validation, and what it builds. */
class FinetuneRecipeTest {

    @Test
    void referenceIsThePapersMainFinetuneRecipe() {
        FinetuneRecipe r = FinetuneRecipe.reference();
        assertEquals("reference", r.name());
        assertEquals(50, r.epochs());
        assertEquals(64, r.batch());
        assertEquals(1e-3, r.blr());
        assertEquals(1e-6, r.minLr());
        assertEquals(5, r.warmupEpochs());
        assertEquals(0.1, r.smoothing());
        assertEquals(0.75, r.layerDecay());
        assertEquals(0.1, r.dropPath());
        assertEquals(0.8, r.mixup());
        assertEquals(1.0, r.cutmix());
        assertEquals(1.0, r.mixupProb());
        assertEquals(0.5, r.mixupSwitchProb());
        assertEquals(FinetuneRecipe.Crop.resized(0.08), r.crop());
        assertEquals(0.25, r.reprob());
        assertEquals("rand-m9-mstd0.5-inc1", r.randAugment());
        assertEquals(VitClassifier.Pooling.GLOBAL_AVERAGE, r.pooling());
        assertEquals(0.05, r.weightDecay());
        assertEquals(0, r.clipGrad());
        assertEquals(0.1, r.valFraction());
        assertEquals(FinetuneRecipe.ALL_BLOCKS, r.trainableBlocks());
    }

    @Test
    void smallImagesIsTheLightRecipeAndKeepsTheRestOfTheReference() {
        FinetuneRecipe s = FinetuneRecipe.smallImages(), ref = FinetuneRecipe.reference();
        assertEquals("small-images", s.name());
        assertEquals(FinetuneRecipe.Crop.padded(2), s.crop());
        assertEquals(0.1, s.smoothing());
        assertEquals(0, s.mixup());
        assertEquals(0, s.cutmix());
        assertEquals("none", s.randAugment());
        assertTrue(s.reprob() <= 0.1, "random erasing at most 0.1, got " + s.reprob());
        assertEquals(0.1, s.dropPath());
        assertEquals(0.75, s.layerDecay());
        assertEquals(VitClassifier.Pooling.GLOBAL_AVERAGE, s.pooling());
        assertEquals(50, s.epochs());
        assertEquals(5, s.warmupEpochs());
        // the rest as the reference's
        assertEquals(ref.batch(), s.batch());
        assertEquals(ref.blr(), s.blr());
        assertEquals(ref.minLr(), s.minLr());
        assertEquals(ref.weightDecay(), s.weightDecay());
        assertEquals(ref.clipGrad(), s.clipGrad());
        assertEquals(ref.valFraction(), s.valFraction());
        assertEquals(ref.trainableBlocks(), s.trainableBlocks());

        Normalization norm = Normalization.fashionMnist();
        assertFalse(s.mixupOf().enabled(), "no mixup / cutmix");
        String t = s.transform(norm).toString();
        assertTrue(t.contains("pad 2 + random crop + flip") && t.contains("RandAugment[none") && t.contains("RandomErasing[prob=0.0"), t);
        assertTrue(ref.mixupOf().enabled());
        String rt = ref.transform(norm).toString();
        assertTrue(rt.contains("crop 0.08-1.0 + flip") && !rt.contains("RandAugment[none") && rt.contains("RandomErasing[prob=0.25"), rt);
    }

    @Test
    void presetsAreFoundByNameAndAnUnknownNameIsRefusedInOneLineListingTheKnownOnes() {
        assertEquals(FinetuneRecipe.reference(), FinetuneRecipe.preset("reference"));
        assertEquals(FinetuneRecipe.smallImages(), FinetuneRecipe.preset("small-images"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FinetuneRecipe.preset("tiny"));
        assertEquals("unknown finetune recipe 'tiny'; known: [reference, small-images]", e.getMessage());
    }

    @Test
    void copiesChangeOneKnobAndKeepTheName() {
        FinetuneRecipe s = FinetuneRecipe.smallImages(), m = s.withMixup(0.2);
        assertEquals(0.2, m.mixup());
        assertEquals(s, m.withMixup(0));
        assertEquals("small-images", m.name());
        assertEquals(3, s.withTrainableBlocks(3).trainableBlocks());
        assertEquals(FinetuneRecipe.Crop.resized(0.35), s.withCrop(FinetuneRecipe.Crop.resized(0.35)).crop());
    }

    @Test
    void badKnobsAreRefusedInOneLineNamingTheKnob() {
        FinetuneRecipe r = FinetuneRecipe.reference();
        assertEquals("finetune recipe: smoothing must be in [0, 1), got 1.0", assertThrows(IllegalArgumentException.class, () -> r.withSmoothing(1)).getMessage());
        assertEquals("finetune recipe: epochs must be >= 1, got 0", assertThrows(IllegalArgumentException.class, () -> r.withEpochs(0)).getMessage());
        assertEquals("finetune recipe: layer decay must be in (0, 1], got 1.5", assertThrows(IllegalArgumentException.class, () -> r.withLayerDecay(1.5)).getMessage());
        assertEquals("finetune recipe: trainable blocks must be >= 0 (or all), got -2", assertThrows(IllegalArgumentException.class, () -> r.withTrainableBlocks(-2)).getMessage());
        assertEquals("finetune recipe: crop padding must be >= 0 pixels, got -1", assertThrows(IllegalArgumentException.class, () -> FinetuneRecipe.Crop.padded(-1)).getMessage());
        String aa = assertThrows(IllegalArgumentException.class, () -> r.withRandAugment("augmix-m5")).getMessage();
        assertTrue(aa.startsWith("finetune recipe: RandAugment policy 'augmix-m5'") && !aa.contains("\n"), aa);
        assertEquals("trainable blocks 'some' must be 'all' or a number of blocks >= 0",
                assertThrows(IllegalArgumentException.class, () -> FinetuneRecipe.parseTrainableBlocks("some")).getMessage());
    }

    @Test
    void theCheckpointMapKeepsTheOldKeysAndNamesTheRecipe() {
        Map<String, String> m = FinetuneRecipe.reference().asMap();
        assertEquals("reference", m.get("recipe"));
        assertEquals("0.08", m.get("crop_scale"));
        assertEquals("resized-0.08", m.get("crop"));
        assertEquals(RandAugment.MAE_POLICY, m.get("aa"));
        for (String k : new String[] {"val_fraction", "smoothing", "weight_decay", "layer_decay", "mixup", "cutmix", "mixup_prob", "mixup_switch_prob", "reprob"}) {
            assertTrue(m.containsKey(k), k);
        }
        Map<String, String> s = FinetuneRecipe.smallImages().asMap();
        assertEquals("pad-2", s.get("crop"));
        assertFalse(s.containsKey("crop_scale"));
        assertEquals(FinetuneRecipe.Crop.padded(2), FinetuneRecipe.Crop.parse(s.get("crop")));
        assertEquals("all", s.get("trainable_blocks"));
    }
}
