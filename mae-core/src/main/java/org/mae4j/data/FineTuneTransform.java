package org.mae4j.data;

import java.util.Objects;
import java.util.Random;

/**
 * The reference's fine-tuning transform (timm's {@code create_transform(is_training=True)} as
 * {@code main_finetune.py} calls it): RandomResizedCrop + horizontal flip, RandAugment on the [0, 1] image,
 * Normalize, then RandomErasing on the normalized image. Mixup/CutMix act on the batch afterwards.
 *
 * @param crop    the crop, the flip and the normalization statistics
 * @param aa      RandAugment ({@link RandAugment#none} to skip)
 * @param erasing random erasing ({@link RandomErasing#off} to skip)
 */
public record FineTuneTransform(Augment crop, RandAugment aa, RandomErasing erasing) implements Transform {
    public FineTuneTransform {
        Objects.requireNonNull(crop, "crop");
        Objects.requireNonNull(aa, "aa");
        Objects.requireNonNull(erasing, "erasing");
        if (aa.enabled() && aa.channels() != crop.channels()) {
            throw new IllegalArgumentException("RandAugment fills " + aa.channels() + " channels, the crop normalizes " + crop.channels());
        }
    }

    /** The crop of timm's training transform: scale (0.08, 1), ratio (3/4, 4/3), flip; with these statistics. */
    public static Augment referenceCrop(float[] mean, float[] std) {
        return new Augment(0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, true, mean, std);
    }

    @Override public int channels() { return crop.channels(); }

    @Override
    public void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng) {
        float[] zero = new float[c], one = new float[c];
        java.util.Arrays.fill(one, 1f);
        crop.withNormalization(zero, one).apply(src, srcOff, c, size, dst, dstOff, rng);   // crop and flip, values stay in [0, 1]
        if (aa.enabled()) aa.apply(dst, dstOff, c, size, rng);
        crop.normalizeOnly(dst, dstOff, c, size, dst, dstOff);
        if (erasing.enabled()) erasing.apply(dst, dstOff, c, size, rng);
    }

    @Override
    public String toString() {
        return "FineTuneTransform[crop " + crop.scaleMin() + "-" + crop.scaleMax() + (crop.hflip() ? " + flip" : "") + ", " + aa + ", " + erasing + "]";
    }
}
