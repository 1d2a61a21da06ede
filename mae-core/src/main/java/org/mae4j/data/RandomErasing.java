package org.mae4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;

/**
 * timm's {@code RandomErasing} on one normalized C*H*W image (the last step of the MAE fine-tuning transform,
 * after Normalize): with probability {@code probability}, {@code count} boxes (or a uniform number in
 * [1, count] when count > 1) are overwritten, each box found in up to 10 attempts; an attempt draws a target
 * area uniformly in [minArea, maxArea] of the image (divided by the number of boxes) and an aspect ratio h/w
 * log-uniformly in [minAspect, maxAspect], rounds {@code h = round(sqrt(area * aspect))} and
 * {@code w = round(sqrt(area / aspect))} half to even as Python does, and is accepted when h < H and w < W (strictly,
 * as timm), its top-left corner then uniform. An attempt that fails draws again; after 10 failures that box is
 * skipped. Erased pixels become, by {@link Mode}: per-pixel N(0, 1) values ('pixel', the MAE default), one
 * N(0, 1) value per channel ('rand'), or 0 ('const').
 *
 * <p>Random numbers, in this order: one uniform for the probability (an image is erased when it is
 * {@code <= probability}, timm's {@code random() > p} skip test); when count > 1 the number of boxes; per attempt
 * the area then the log-aspect uniforms, and for the accepted attempt the top then the left
 * ({@link Random#nextInt(int)}) and then the fill values in channel, row, column order. A config with probability
 * 0 draws nothing. Equal generator states give equal outputs.
 *
 * @param probability chance that an image is erased, in [0, 1]; 0 turns erasing off
 * @param minArea     smallest box area as a fraction of the image, in (0, maxArea]
 * @param maxArea     largest box area fraction, in [minArea, 1]
 * @param minAspect   smallest aspect ratio h/w, in (0, maxAspect]
 * @param maxAspect   largest aspect ratio h/w (timm's default is 1 / minAspect)
 * @param mode        what the erased pixels become
 * @param count       largest number of boxes per image, at least 1
 */
public record RandomErasing(double probability, double minArea, double maxArea, double minAspect, double maxAspect,
                            Mode mode, int count) {

    /** timm tries this many random boxes before giving up on one. */
    private static final int ATTEMPTS = 10;

    /** The value written into erased pixels (timm's {@code re_mode}). */
    public enum Mode {
        /** 0 in every channel (normalized images: the dataset mean). */
        CONST,
        /** One N(0, 1) value per channel for the whole box. */
        RAND,
        /** An N(0, 1) value per pixel and channel. */
        PIXEL;

        /** timm's spelling: 'const', 'rand' or 'pixel'. */
        public String timmName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public RandomErasing {
        Objects.requireNonNull(mode, "mode");
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + probability);
        }
        if (!(minArea > 0 && minArea <= maxArea && maxArea <= 1)) {
            throw new IllegalArgumentException("need 0 < minArea <= maxArea <= 1, got minArea " + minArea
                    + ", maxArea " + maxArea);
        }
        if (!(minAspect > 0 && minAspect <= maxAspect && Double.isFinite(maxAspect))) {
            throw new IllegalArgumentException("need 0 < minAspect <= maxAspect < infinity, got minAspect " + minAspect
                    + ", maxAspect " + maxAspect);
        }
        if (count < 1) throw new IllegalArgumentException("count must be at least 1, got " + count);
    }

    /**
     * The MAE fine-tuning defaults ({@code --reprob 0.25 --remode pixel --recount 1}) with timm's area [0.02, 1/3]
     * and aspect [0.3, 1/0.3].
     */
    public static RandomErasing mae() {
        return of(0.25);
    }

    /** timm's defaults (area [0.02, 1/3], aspect [0.3, 1/0.3], mode 'pixel', one box) at the given probability. */
    public static RandomErasing of(double probability) {
        return new RandomErasing(probability, 0.02, 1.0 / 3.0, 0.3, 1 / 0.3, Mode.PIXEL, 1);
    }

    /** Never erases (and draws no random numbers). */
    public static RandomErasing off() {
        return of(0);
    }

    /** Whether any image can be erased. */
    public boolean enabled() {
        return probability > 0;
    }

    /**
     * Maybe erases boxes of one image in place. image: [c, h, w] at offset off.
     *
     * @return the erased boxes, empty when the image was left alone
     * @throws IllegalArgumentException if the array is too short for the image or a size is not positive
     */
    public List<Box> apply(float[] image, int off, int c, int h, int w, Random rng) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(rng, "rng");
        if (c < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("need c, h, w >= 1, got c " + c + ", h " + h + ", w " + w);
        }
        long len = (long) c * h * w;
        if (off < 0 || off + len > image.length) {
            throw new IllegalArgumentException("image has " + image.length + " floats, need c*h*w = " + len
                    + " from offset " + off);
        }
        if (!enabled() || rng.nextDouble() > probability) return List.of();
        int boxes = count > 1 ? 1 + rng.nextInt(count) : 1;
        double area = (double) h * w;
        double logMin = Math.log(minAspect), logMax = Math.log(maxAspect);
        List<Box> erased = new ArrayList<>(boxes);
        for (int b = 0; b < boxes; b++) {
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                double target = (minArea + (maxArea - minArea) * rng.nextDouble()) * area / boxes;
                double aspect = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
                // Math.rint rounds half to even, as Python's round does.
                int bh = (int) Math.rint(Math.sqrt(target * aspect));
                int bw = (int) Math.rint(Math.sqrt(target / aspect));
                if (bw < w && bh < h) {
                    int top = rng.nextInt(h - bh + 1);
                    int left = rng.nextInt(w - bw + 1);
                    Box box = new Box(top, left, bh, bw);
                    fill(image, off, c, h, w, box, rng);
                    erased.add(box);
                    break;
                }
            }
        }
        return erased;
    }

    /** {@link #apply(float[], int, int, int, int, Random)} for a square s x s image. */
    public List<Box> apply(float[] image, int off, int c, int s, Random rng) {
        return apply(image, off, c, s, s, rng);
    }

    private void fill(float[] image, int off, int c, int h, int w, Box box, Random rng) {
        for (int ch = 0; ch < c; ch++) {
            float v = mode == Mode.RAND ? (float) rng.nextGaussian() : 0f;
            for (int y = box.top(); y < box.top() + box.height(); y++) {
                int row = off + (ch * h + y) * w;
                for (int x = box.left(); x < box.left() + box.width(); x++) {
                    image[row + x] = mode == Mode.PIXEL ? (float) rng.nextGaussian() : v;
                }
            }
        }
    }

    @Override
    public String toString() {
        return "RandomErasing[prob=" + probability + ", area=[" + minArea + ", " + maxArea + "], aspect=[" + minAspect
                + ", " + maxAspect + "], mode=" + mode.timmName() + ", count=" + count + "]";
    }
}
