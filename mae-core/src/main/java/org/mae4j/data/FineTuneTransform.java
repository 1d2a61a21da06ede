package org.mae4j.data;

import java.util.Objects;
import java.util.Random;

/**
 * The reference's fine-tuning transform (timm's {@code create_transform(is_training=True)} as
 * {@code main_finetune.py} calls it): RandomResizedCrop + horizontal flip, RandAugment on the [0, 1] image,
 * Normalize, then RandomErasing on the normalized image. Mixup/CutMix act on the batch afterwards.
 *
 * Built from the crop (with the flip and the normalization statistics), RandAugment ({@link RandAugment#none}
 * to skip) and random erasing ({@link RandomErasing#off} to skip).
 */
public final class FineTuneTransform implements Transform {
    private final Augment crop, cropOnly;   // cropOnly: the same crop and flip, values left in [0, 1]
    private final RandAugment aa;
    private final RandomErasing erasing;

    public FineTuneTransform(Augment crop, RandAugment aa, RandomErasing erasing) {
        this.crop = Objects.requireNonNull(crop, "crop");
        this.aa = Objects.requireNonNull(aa, "aa");
        this.erasing = Objects.requireNonNull(erasing, "erasing");
        if (aa.enabled() && aa.channels() != crop.channels()) {
            throw new IllegalArgumentException("RandAugment fills " + aa.channels() + " channels, the crop normalizes " + crop.channels());
        }
        float[] one = new float[crop.channels()];
        java.util.Arrays.fill(one, 1f);
        this.cropOnly = crop.withNormalization(new float[crop.channels()], one);
    }

    /** timm's smallest crop area fraction (made for 224-pixel images). */
    public static final double REFERENCE_SCALE = 0.08;

    /** The crop of timm's training transform: scale (scaleMin, 1), ratio (3/4, 4/3), flip; with these statistics. */
    public static Augment crop(double scaleMin, float[] mean, float[] std) {
        return new Augment(scaleMin, 1.0, 3.0 / 4.0, 4.0 / 3.0, true, mean, std);
    }

    /** {@link #crop} at the reference's scale. */
    public static Augment referenceCrop(float[] mean, float[] std) {
        return crop(REFERENCE_SCALE, mean, std);
    }

    @Override public int channels() { return crop.channels(); }

    @Override
    public void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng) {
        cropOnly.apply(src, srcOff, c, size, dst, dstOff, rng);   // crop and flip, values stay in [0, 1]
        if (aa.enabled()) aa.apply(dst, dstOff, c, size, rng);
        crop.normalizeOnly(dst, dstOff, c, size, dst, dstOff);
        if (erasing.enabled()) erasing.apply(dst, dstOff, c, size, rng);
    }

    @Override
    public String toString() {
        return "FineTuneTransform[crop " + crop.scaleMin() + "-" + crop.scaleMax() + (crop.hflip() ? " + flip" : "") + ", " + aa + ", " + erasing + "]";
    }
}
