package org.mae4j.data;

import java.util.Objects;
import java.util.Random;

/**
 * The reference's fine-tuning transform (timm's {@code create_transform(is_training=True)} as
 * {@code main_finetune.py} calls it): RandomResizedCrop + horizontal flip, RandAugment on the [0, 1] image,
 * Normalize, then RandomErasing on the normalized image. Mixup/CutMix act on the batch afterwards.
 *
 * Built from the crop (with the flip and the normalization statistics), RandAugment ({@link RandAugment#none}
 * to skip) and random erasing ({@link RandomErasing#off} to skip). {@link #padded} puts torchvision's pad-and-crop
 * ({@link PadCrop}, the small-image recipes' crop) in the RandomResizedCrop's place.
 */
public final class FineTuneTransform implements Transform {
    /** The crop and flip, writing values in [0, 1] (Augment's and PadCrop's apply). */
    private interface Geometry {
        void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng);
    }

    private final Augment crop;          // the normalization statistics (and the RandomResizedCrop, for toString)
    private final Geometry geometry;
    private final String cropText;
    private final RandAugment aa;
    private final RandomErasing erasing;

    public FineTuneTransform(Augment crop, RandAugment aa, RandomErasing erasing) {
        this(crop, unnormalized(crop)::apply, "crop " + crop.scaleMin() + "-" + crop.scaleMax() + (crop.hflip() ? " + flip" : ""), aa, erasing);
    }

    private FineTuneTransform(Augment crop, Geometry geometry, String cropText, RandAugment aa, RandomErasing erasing) {
        this.crop = Objects.requireNonNull(crop, "crop");
        this.geometry = geometry;
        this.cropText = cropText;
        this.aa = Objects.requireNonNull(aa, "aa");
        this.erasing = Objects.requireNonNull(erasing, "erasing");
        if (aa.enabled() && aa.channels() != crop.channels()) {
            throw new IllegalArgumentException("RandAugment fills " + aa.channels() + " channels, the crop normalizes " + crop.channels());
        }
    }

    /** The same crop and flip with values left in [0, 1]. */
    private static Augment unnormalized(Augment crop) {
        float[] one = new float[crop.channels()];
        java.util.Arrays.fill(one, 1f);
        return crop.withNormalization(new float[crop.channels()], one);
    }

    /** Pad-and-random-crop (and flip) instead of RandomResizedCrop, then RandAugment, Normalize(mean, std), erasing. */
    public static FineTuneTransform padded(PadCrop pad, float[] mean, float[] std, RandAugment aa, RandomErasing erasing) {
        Objects.requireNonNull(pad, "pad");
        return new FineTuneTransform(new Augment(1, 1, 1, 1, false, mean, std), pad::apply, pad.toString(), aa, erasing);
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
        geometry.apply(src, srcOff, c, size, dst, dstOff, rng);   // crop and flip, values stay in [0, 1]
        if (aa.enabled()) aa.apply(dst, dstOff, c, size, rng);
        crop.normalizeOnly(dst, dstOff, c, size, dst, dstOff);
        if (erasing.enabled()) erasing.apply(dst, dstOff, c, size, rng);
    }

    @Override
    public String toString() {
        return "FineTuneTransform[" + cropText + ", " + aa + ", " + erasing + "]";
    }
}
