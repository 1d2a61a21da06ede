package org.mae4j.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * The per-image pretraining transform of MAE: torchvision's {@code RandomResizedCrop(size, scale, ratio)},
 * optionally {@code RandomHorizontalFlip()}, then {@code Normalize(mean, std)}, on C*H*W floats in [0, 1].
 *
 * <p>The crop follows torchvision's {@code RandomResizedCrop.get_params}: up to 10 attempts, each drawing an
 * area fraction uniformly from [scaleMin, scaleMax] and an aspect ratio (w/h) log-uniformly from
 * [ratioMin, ratioMax], rounding w and h half-to-even like Python's round, accepting the first that fits and
 * then drawing its top-left corner uniformly; if none fits, the centred crop with the ratio clamped into range.
 * The crop is resampled back to size x size bilinearly ({@link Resample}). The MAE reference uses bicubic
 * interpolation here; bilinear is what this library uses everywhere, and the difference is a slight softening.
 *
 * <p>All randomness comes from the {@link Random} passed to {@link #apply}, drawn in a fixed order (area, ratio,
 * top, left per attempt, then the flip), so equal generator states give equal outputs.
 *
 * @param scaleMin smallest crop area as a fraction of the image, in (0, scaleMax]
 * @param scaleMax largest crop area fraction, in [scaleMin, 1]
 * @param ratioMin smallest crop aspect ratio w/h, in (0, ratioMax]
 * @param ratioMax largest crop aspect ratio w/h
 * @param hflip    whether to mirror left-right with probability 0.5
 * @param mean     per-channel mean subtracted after cropping; its length is the channel count
 * @param std      per-channel divisor, each positive; same length as mean
 */
public record Augment(double scaleMin, double scaleMax, double ratioMin, double ratioMax, boolean hflip,
                      float[] mean, float[] std) implements Transform {

    /** torchvision's RandomResizedCrop tries this many random boxes before falling back to the centre crop. */
    private static final int ATTEMPTS = 10;

    public Augment {
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1)) {
            throw new IllegalArgumentException("need 0 < scaleMin <= scaleMax <= 1, got scaleMin " + scaleMin
                    + ", scaleMax " + scaleMax);
        }
        if (!(ratioMin > 0 && ratioMin <= ratioMax && Double.isFinite(ratioMax))) {
            throw new IllegalArgumentException("need 0 < ratioMin <= ratioMax < infinity, got ratioMin " + ratioMin
                    + ", ratioMax " + ratioMax);
        }
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
        if (mean.length == 0) throw new IllegalArgumentException("mean needs one value per channel, got none");
        if (std.length != mean.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " values but std has " + std.length
                    + "; both need one per channel");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Float.isFinite(mean[c])) throw new IllegalArgumentException("mean[" + c + "] is " + mean[c]);
            if (!(std[c] > 0) || !Float.isFinite(std[c])) {
                throw new IllegalArgumentException("std[" + c + "] must be positive and finite, got " + std[c]);
            }
        }
        // Copied so that the record stays immutable whatever the caller does with its arrays.
        mean = mean.clone();
        std = std.clone();
    }

    /**
     * The MAE pretraining transform: scale [0.2, 1], ratio [3/4, 4/3], horizontal flip, and the dataset
     * statistics: Fashion-MNIST's (mean 0.2860, std 0.3530) for 1 channel, ImageNet's for 3.
     */
    public static Augment mae(int channels) {
        return switch (channels) {
            case 1 -> new Augment(0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0, true,
                    new float[] {0.2860f}, new float[] {0.3530f});
            case 3 -> new Augment(0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0, true,
                    new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
            default -> throw new IllegalArgumentException("MAE presets exist for 1 or 3 channels, got " + channels);
        };
    }

    /** No crop, no flip, mean 0 and std 1: {@link #apply} copies the image unchanged. */
    public static Augment none(int channels) {
        if (channels < 1) throw new IllegalArgumentException("channels must be at least 1, got " + channels);
        float[] zero = new float[channels];
        float[] one = new float[channels];
        Arrays.fill(one, 1f);
        return new Augment(1.0, 1.0, 1.0, 1.0, false, zero, one);
    }

    /** The same crop and flip with other normalization statistics (e.g. computed on one's own data). */
    public Augment withNormalization(float[] mean, float[] std) {
        return new Augment(scaleMin, scaleMax, ratioMin, ratioMax, hflip, mean, std);
    }

    /** Number of channels this transform normalizes. */
    public int channels() {
        return mean.length;
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /**
     * Whether {@link #apply} crops at all: with scale [1, 1] and ratio [1, 1] the crop of a square image is the
     * whole image, so no random numbers are drawn for it.
     */
    public boolean randomCrop() {
        return !(scaleMin == 1 && scaleMax == 1 && ratioMin == 1 && ratioMax == 1);
    }

    /**
     * Crops, resamples, maybe flips and normalizes one square image: reads c*size*size floats of src from srcOff,
     * writes c*size*size floats of dst from dstOff. src and dst may be the same region.
     *
     * @throws IllegalArgumentException if c is not this transform's channel count, or an array is too short
     */
    @Override
    public void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng) {
        check(src, srcOff, c, size, dst, dstOff);
        Objects.requireNonNull(rng, "rng");
        int[] box = randomCrop() ? cropBox(size, size, rng) : null;
        if (box == null || (box[2] == size && box[3] == size)) {
            System.arraycopy(src, srcOff, dst, dstOff, c * size * size);
        } else {
            int top = box[0], left = box[1], h = box[2], w = box[3];
            Resample.resize(src, srcOff, c, size, size, left, top, left + w, top + h, dst, dstOff, size, size);
        }
        if (hflip && rng.nextDouble() < 0.5) mirror(dst, dstOff, c, size);
        normalizeInPlace(dst, dstOff, c, size);
    }

    /** Only the normalization (x - mean[c]) / std[c], for evaluation. src and dst may be the same region. */
    public void normalizeOnly(float[] src, int srcOff, int c, int size, float[] dst, int dstOff) {
        check(src, srcOff, c, size, dst, dstOff);
        System.arraycopy(src, srcOff, dst, dstOff, c * size * size);
        normalizeInPlace(dst, dstOff, c, size);
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params} for a height x width image: {top, left, h, w}.
     */
    int[] cropBox(int height, int width, Random rng) {
        double area = (double) height * width;
        double logMin = Math.log(ratioMin), logMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
            double ratio = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
            // Math.rint rounds half to even, as Python's round does.
            int w = (int) Math.rint(Math.sqrt(targetArea * ratio));
            int h = (int) Math.rint(Math.sqrt(targetArea / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new int[] {top, left, h, w};
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }

    private void check(float[] src, int srcOff, int c, int size, float[] dst, int dstOff) {
        if (c != mean.length) {
            throw new IllegalArgumentException("image has " + c + " channels but this Augment normalizes "
                    + mean.length);
        }
        if (size < 1) throw new IllegalArgumentException("image size must be at least 1, got " + size);
        int n = c * size * size;
        if (srcOff < 0 || srcOff > src.length - n) {
            throw new IllegalArgumentException("src has " + src.length + " floats, need " + n + " from offset " + srcOff);
        }
        if (dstOff < 0 || dstOff > dst.length - n) {
            throw new IllegalArgumentException("dst has " + dst.length + " floats, need " + n + " from offset " + dstOff);
        }
    }

    /** Mirrors each row left-right in place (also {@link PadCrop}'s flip). */
    static void mirror(float[] a, int off, int c, int size) {
        for (int row = 0; row < c * size; row++) {
            int lo = off + row * size, hi = lo + size - 1;
            while (lo < hi) {
                float t = a[lo];
                a[lo++] = a[hi];
                a[hi--] = t;
            }
        }
    }

    private void normalizeInPlace(float[] a, int off, int c, int size) {
        int plane = size * size;
        for (int ch = 0; ch < c; ch++) {
            float m = mean[ch], s = std[ch];
            int base = off + ch * plane;
            for (int p = 0; p < plane; p++) a[base + p] = (a[base + p] - m) / s;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Augment a && scaleMin == a.scaleMin && scaleMax == a.scaleMax
                && ratioMin == a.ratioMin && ratioMax == a.ratioMax && hflip == a.hflip
                && Arrays.equals(mean, a.mean) && Arrays.equals(std, a.std);
    }

    @Override
    public int hashCode() {
        return Objects.hash(scaleMin, scaleMax, ratioMin, ratioMax, hflip, Arrays.hashCode(mean), Arrays.hashCode(std));
    }

    @Override
    public String toString() {
        return "Augment[scale=[" + scaleMin + ", " + scaleMax + "], ratio=[" + ratioMin + ", " + ratioMax + "], hflip="
                + hflip + ", mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
