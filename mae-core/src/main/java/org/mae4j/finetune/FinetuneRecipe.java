package org.mae4j.finetune;

import org.mae4j.config.Normalization;
import org.mae4j.data.FineTuneTransform;
import org.mae4j.data.Mixup;
import org.mae4j.data.PadCrop;
import org.mae4j.data.RandAugment;
import org.mae4j.data.RandomErasing;
import org.mae4j.data.Transform;
import org.mae4j.engine.ParamStore;
import org.mae4j.train.ParamGroups;
import org.mae4j.train.Trainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Every knob of a fine-tuning recipe in one validated, immutable record, with named presets: {@link #reference()}
 * (the paper's {@code main_finetune.py}, what {@code ./mae finetune} always did) and {@link #smallImages()} (a
 * light recipe for small images and few labels). Start from a preset and change what you need:
 * {@code FinetuneRecipe.smallImages().withEpochs(100)}. It builds the run's pieces ({@link #transform},
 * {@link #mixupOf}, {@link #paramGroups}, {@link #spec}, {@link #options}) and goes into the checkpoint as
 * {@link #asMap} (beside {@link Trainer.Options#asMap}, which holds epochs, batch, blr, min lr, warmup, clip grad).
 *
 * @param name            the preset it started from ({@code reference}, {@code small-images}); withX copies keep it
 * @param epochs          total epochs, >= 1
 * @param batch           images per step, >= 1
 * @param blr             base learning rate (lr = blr x effective batch / 256), > 0
 * @param minLr           floor of the cosine schedule, >= 0
 * @param warmupEpochs    linear warmup, >= 0 (a run caps it at its epochs)
 * @param smoothing       label smoothing in [0, 1)
 * @param layerDecay      layer-wise lr decay in (0, 1]
 * @param dropPath        stochastic depth of the last block, in [0, 1)
 * @param mixup           Mixup alpha, >= 0 (0 = off)
 * @param cutmix          CutMix alpha, >= 0 (0 = off)
 * @param mixupProb       probability of mixing a batch, in [0, 1]
 * @param mixupSwitchProb probability of CutMix instead of Mixup when both are on, in [0, 1]
 * @param crop            the crop: {@link Crop.Resized} (RandomResizedCrop) or {@link Crop.Padded} (pad + random crop); both flip
 * @param reprob          random erasing probability, in [0, 1]
 * @param randAugment     timm RandAugment policy ({@code rand-m9-mstd0.5-inc1}) or {@code none}
 * @param pooling         the head's input (mean of the patch tokens + fc_norm, or the cls token)
 * @param weightDecay     AdamW weight decay, >= 0
 * @param clipGrad        gradient global-norm clip, >= 0 (0 = off)
 * @param valFraction     fraction of the training data held out to choose the best epoch, in (0, 1)
 * @param trainableBlocks {@link #ALL_BLOCKS} (full fine-tuning) or K >= 0: only the last K blocks + the final norm /
 *                        fc_norm + head train ({@link VitClassifier.Spec#trains})
 */
public record FinetuneRecipe(String name, int epochs, int batch, double blr, double minLr, double warmupEpochs, double smoothing, double layerDecay, double dropPath, double mixup, double cutmix, double mixupProb, double mixupSwitchProb, Crop crop, double reprob, String randAugment, VitClassifier.Pooling pooling, double weightDecay, double clipGrad, double valFraction, int trainableBlocks) {

    /** The name of {@link #reference()}, which checkpoints from before named recipes ran. */
    public static final String REFERENCE = "reference";

    /** {@link #trainableBlocks} for full fine-tuning: every tensor trains. */
    public static final int ALL_BLOCKS = VitClassifier.Spec.ALL_BLOCKS;
    /** How {@link #ALL_BLOCKS} is written (CLI, checkpoint). */
    public static final String ALL = "all";

    /** The crop of the training transform; both kinds are followed by a random horizontal flip. */
    public sealed interface Crop {
        /** timm's RandomResizedCrop: area fraction in [minScale, 1], ratio [3/4, 4/3], resampled to the image size. */
        record Resized(double minScale) implements Crop {
            public Resized {
                if (!(minScale > 0 && minScale <= 1)) throw new IllegalArgumentException("finetune recipe: crop scale must be in (0, 1], got " + minScale);
            }
            @Override public String text() { return "resized-" + minScale; }
        }

        /** torchvision's RandomCrop(size, padding): pad by padding pixels, crop the original size at a random place. */
        record Padded(int padding) implements Crop {
            public Padded {
                if (padding < 0) throw new IllegalArgumentException("finetune recipe: crop padding must be >= 0 pixels, got " + padding);
            }
            @Override public String text() { return "pad-" + padding; }
        }

        /** {@code resized-0.08} or {@code pad-2}: how the checkpoint records it. */
        String text();

        static Crop resized(double minScale) { return new Resized(minScale); }
        static Crop padded(int padding) { return new Padded(padding); }

        /** Reads {@link #text} back; one line naming the text when it is neither form. */
        static Crop parse(String text) {
            try {
                if (text.startsWith("resized-")) return resized(Double.parseDouble(text.substring(8)));
                if (text.startsWith("pad-")) return padded(Integer.parseInt(text.substring(4)));
            } catch (NumberFormatException e) {
                // falls through to the message below
            }
            throw new IllegalArgumentException("crop '" + text + "' is neither resized-SCALE nor pad-PIXELS");
        }
    }

    public FinetuneRecipe {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("finetune recipe: name must not be empty");
        if (epochs < 1) throw bad("epochs", ">= 1", epochs);
        if (batch < 1) throw bad("batch", ">= 1", batch);
        if (!(blr > 0) || !Double.isFinite(blr)) throw bad("blr", "positive and finite", blr);
        if (!(minLr >= 0) || !Double.isFinite(minLr)) throw bad("min lr", ">= 0 and finite", minLr);
        if (!(warmupEpochs >= 0) || !Double.isFinite(warmupEpochs)) throw bad("warmup epochs", ">= 0 and finite", warmupEpochs);
        if (!(smoothing >= 0 && smoothing < 1)) throw bad("smoothing", "in [0, 1)", smoothing);
        if (!(layerDecay > 0 && layerDecay <= 1)) throw bad("layer decay", "in (0, 1]", layerDecay);
        if (!(dropPath >= 0 && dropPath < 1)) throw bad("drop path", "in [0, 1)", dropPath);
        if (!(mixup >= 0) || !Double.isFinite(mixup)) throw bad("mixup", ">= 0 and finite", mixup);
        if (!(cutmix >= 0) || !Double.isFinite(cutmix)) throw bad("cutmix", ">= 0 and finite", cutmix);
        if (!(mixupProb >= 0 && mixupProb <= 1)) throw bad("mixup prob", "in [0, 1]", mixupProb);
        if (!(mixupSwitchProb >= 0 && mixupSwitchProb <= 1)) throw bad("mixup switch prob", "in [0, 1]", mixupSwitchProb);
        Objects.requireNonNull(crop, "finetune recipe: crop");
        if (!(reprob >= 0 && reprob <= 1)) throw bad("reprob", "in [0, 1]", reprob);
        Objects.requireNonNull(randAugment, "finetune recipe: randAugment");
        try {
            RandAugment.parse(randAugment, new float[1]);   // the policy's syntax; the fill colour comes with the data
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("finetune recipe: " + e.getMessage());
        }
        Objects.requireNonNull(pooling, "finetune recipe: pooling");
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) throw bad("weight decay", ">= 0 and finite", weightDecay);
        if (!(clipGrad >= 0) || !Double.isFinite(clipGrad)) throw bad("clip grad", ">= 0 and finite", clipGrad);
        if (!(valFraction > 0 && valFraction < 1)) throw bad("val fraction", "in (0, 1)", valFraction);
        if (trainableBlocks < ALL_BLOCKS) throw bad("trainable blocks", ">= 0 (or all)", trainableBlocks);
    }

    private static IllegalArgumentException bad(String knob, String need, Object got) {
        return new IllegalArgumentException("finetune recipe: " + knob + " must be " + need + ", got " + got);
    }

    // ------------------------------------------------------------------ presets

    /**
     * The reference's {@code main_finetune.py} defaults (as the MAE paper fine-tunes ViT-B on ImageNet), what
     * {@code ./mae finetune} did before recipes had names: 50 epochs, batch 64, blr 1e-3, min lr 1e-6, warmup 5,
     * smoothing 0.1, layer decay 0.75, drop path 0.1, mixup 0.8, cutmix 1.0 (always mixed, CutMix half the time),
     * RandomResizedCrop from 8%, erasing 0.25, RandAugment m9, mean pooling + fc_norm, weight decay 0.05, no
     * clipping; 10% held out; full fine-tuning.
     */
    public static FinetuneRecipe reference() {
        return new FinetuneRecipe(REFERENCE, 50, 64, 1e-3, 1e-6, 5, 0.1, 0.75, 0.1, 0.8, 1.0, 1.0, 0.5,
                Crop.resized(FineTuneTransform.REFERENCE_SCALE), 0.25, RandAugment.MAE_POLICY, VitClassifier.Pooling.GLOBAL_AVERAGE,
                0.05, 0, 0.1, ALL_BLOCKS);
    }

    /**
     * The light recipe that small-data MAE work fine-tunes with, for small images (and few labels): pad-2 random
     * crop + flip, label smoothing 0.1, no Mixup / CutMix / RandAugment, no random erasing, drop path 0.1, layer
     * decay 0.75, mean pooling; 50 epochs with 5 of warmup; the rest as {@link #reference()}. These are starting
     * values for a pilot to tune, set here and nowhere else.
     */
    public static FinetuneRecipe smallImages() {
        return reference().withName("small-images")
                .withCrop(Crop.padded(2)).withSmoothing(0.1)
                .withMixup(0).withCutmix(0).withRandAugment("none").withReprob(0)
                .withDropPath(0.1).withLayerDecay(0.75).withPooling(VitClassifier.Pooling.GLOBAL_AVERAGE)
                .withEpochs(50).withWarmupEpochs(5);
    }

    private static final Map<String, Supplier<FinetuneRecipe>> PRESETS = Map.of(
            REFERENCE, FinetuneRecipe::reference,
            "small-images", FinetuneRecipe::smallImages);

    /** The preset of that name ({@code reference}, {@code small-images}); one line listing the known names otherwise. */
    public static FinetuneRecipe preset(String name) {
        Supplier<FinetuneRecipe> s = PRESETS.get(name);
        if (s == null) throw new IllegalArgumentException("unknown finetune recipe '" + name + "'; known: " + presetNames());
        return s.get();
    }

    /** Names accepted by {@link #preset(String)}, sorted. */
    public static List<String> presetNames() { return PRESETS.keySet().stream().sorted().toList(); }

    // ------------------------------------------------------------------ copies (the name is kept; withName renames)

    public FinetuneRecipe withName(String v) { return new FinetuneRecipe(v, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withEpochs(int v) { return new FinetuneRecipe(name, v, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withBatch(int v) { return new FinetuneRecipe(name, epochs, v, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withBlr(double v) { return new FinetuneRecipe(name, epochs, batch, v, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withMinLr(double v) { return new FinetuneRecipe(name, epochs, batch, blr, v, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withWarmupEpochs(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, v, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withSmoothing(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, v, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withLayerDecay(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, v, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withDropPath(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, v, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withMixup(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, v, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withCutmix(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, v, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withMixupProb(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, v, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withMixupSwitchProb(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, v, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withCrop(Crop v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, v, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withReprob(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, v, randAugment, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withRandAugment(String v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, v, pooling, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withPooling(VitClassifier.Pooling v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, v, weightDecay, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withWeightDecay(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, v, clipGrad, valFraction, trainableBlocks); }
    public FinetuneRecipe withClipGrad(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, v, valFraction, trainableBlocks); }
    public FinetuneRecipe withValFraction(double v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, v, trainableBlocks); }
    public FinetuneRecipe withTrainableBlocks(int v) { return new FinetuneRecipe(name, epochs, batch, blr, minLr, warmupEpochs, smoothing, layerDecay, dropPath, mixup, cutmix, mixupProb, mixupSwitchProb, crop, reprob, randAugment, pooling, weightDecay, clipGrad, valFraction, v); }

    // ------------------------------------------------------------------ what a run is built from

    /** {@code all} or the number of blocks, as {@link #parseTrainableBlocks} reads it. */
    public static String trainableBlocksText(int k) { return k == ALL_BLOCKS ? ALL : Integer.toString(k); }

    /** {@code all} or K >= 0; one line naming the text otherwise. */
    public static int parseTrainableBlocks(String text) {
        if (text.equals(ALL)) return ALL_BLOCKS;
        try {
            int k = Integer.parseInt(text);
            if (k >= 0) return k;
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("trainable blocks '" + text + "' must be 'all' or a number of blocks >= 0");
    }

    /**
     * The per-image training transform with these input statistics ({@link FineTuneTransform}): the crop and flip,
     * RandAugment on the [0, 1] image (filled with the mean), normalisation, random erasing.
     */
    public Transform transform(Normalization norm) {
        RandAugment aa = RandAugment.parse(randAugment, norm.mean());
        RandomErasing erasing = reprob > 0 ? RandomErasing.of(reprob) : RandomErasing.off();
        if (crop instanceof Crop.Padded p) return FineTuneTransform.padded(new PadCrop(p.padding(), true), norm.mean(), norm.std(), aa, erasing);
        return new FineTuneTransform(FineTuneTransform.crop(((Crop.Resized) crop).minScale(), norm.mean(), norm.std()), aa, erasing);
    }

    /** Mixup / CutMix with this recipe's label smoothing (timm's, label-corrected); off when both alphas are 0. */
    public Mixup mixupOf() { return new Mixup(mixup, cutmix, mixupSwitchProb, mixupProb, smoothing, true); }

    /** The reference's layer-decay groups over the trainable tensors of a classifier of this depth (frozen ones get none). */
    public List<ParamGroups.Group> paramGroups(ParamStore params, int depth) {
        return ParamGroups.layerDecay(params.entries(), layerDecay, weightDecay, depth, ParamGroups.VIT_NO_WEIGHT_DECAY);
    }

    /** The classifier's spec: pooling, drop path and trainable blocks from this recipe. */
    public VitClassifier.Spec spec(int classes) { return new VitClassifier.Spec(classes, pooling, dropPath, trainableBlocks); }

    /** The engine's options: this recipe's schedule and batch (warmup capped at the epochs) with the run's own settings. */
    public Trainer.Options options(int accum, long seed, int saveEveryEpochs, long maxSteps) {
        return new Trainer.Options(epochs, batch, accum, blr, minLr, Math.min(warmupEpochs, epochs), seed, saveEveryEpochs, maxSteps, clipGrad);
    }

    /**
     * The knobs that {@link Trainer.Options#asMap} does not hold, under the checkpoint's keys (those of earlier
     * versions kept, so old checkpoints resume: {@code crop_scale} is written for a resized crop, as before).
     */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("recipe", name);
        m.put("val_fraction", Double.toString(valFraction));
        m.put("smoothing", Double.toString(smoothing));
        m.put("weight_decay", Double.toString(weightDecay));
        m.put("layer_decay", Double.toString(layerDecay));
        m.put("mixup", Double.toString(mixup));
        m.put("cutmix", Double.toString(cutmix));
        m.put("mixup_prob", Double.toString(mixupProb));
        m.put("mixup_switch_prob", Double.toString(mixupSwitchProb));
        m.put("reprob", Double.toString(reprob));
        if (crop instanceof Crop.Resized r) m.put("crop_scale", Double.toString(r.minScale()));
        m.put("crop", crop.text());
        m.put("aa", randAugment);
        m.put("pooling", pooling == VitClassifier.Pooling.CLS_TOKEN ? "cls" : "global");   // as the model description writes it
        m.put("drop_path", Double.toString(dropPath));
        m.put("trainable_blocks", trainableBlocksText(trainableBlocks));
        return m;
    }
}
