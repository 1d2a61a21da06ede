package org.mae4j.config;

import java.util.Arrays;
import java.util.Objects;

/**
 * Per-channel input normalization {@code (x - mean[c]) / std[c]} applied to pixels in [0, 1], as the
 * reference's {@code transforms.Normalize}. Stored in checkpoints as structured fields so that whoever loads
 * the weights feeds them what they were trained on.
 *
 * @param mean one finite value per channel
 * @param std  one positive finite value per channel
 */
public record Normalization(float[] mean, float[] std) {
    public Normalization {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(std, "std");
        if (mean.length == 0) throw new IllegalArgumentException("normalization needs one mean per channel, got none");
        if (std.length != mean.length) {
            throw new IllegalArgumentException("normalization has " + mean.length + " means but " + std.length + " stds; both need one per channel");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Float.isFinite(mean[c])) throw new IllegalArgumentException("normalization mean[" + c + "] is " + mean[c]);
            if (!(std[c] > 0) || !Float.isFinite(std[c])) throw new IllegalArgumentException("normalization std[" + c + "] must be positive and finite, got " + std[c]);
        }
        mean = mean.clone();   // immutable whatever the caller does with its arrays
        std = std.clone();
    }

    /** Fashion-MNIST's statistics (mean 0.2860, std 0.3530), one channel. */
    public static Normalization fashionMnist() { return new Normalization(new float[] {0.2860f}, new float[] {0.3530f}); }

    /** ImageNet's statistics, three channels: what the reference and HuggingFace's ViTMAE use. */
    public static Normalization imagenet() {
        return new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    }

    /** The library's default for a channel count: Fashion-MNIST's for 1, ImageNet's for 3. */
    public static Normalization defaultFor(int channels) {
        return switch (channels) {
            case 1 -> fashionMnist();
            case 3 -> imagenet();
            default -> throw new IllegalArgumentException("no default normalization for " + channels + " channels: give mean and std");
        };
    }

    public int channels() { return mean.length; }
    @Override public float[] mean() { return mean.clone(); }
    @Override public float[] std() { return std.clone(); }

    @Override public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }
    @Override public int hashCode() { return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std); }
    @Override public String toString() { return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]"; }
}
