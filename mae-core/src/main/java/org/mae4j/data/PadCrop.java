package org.mae4j.data;

import java.util.Objects;
import java.util.Random;

/**
 * torchvision's {@code RandomCrop(size, padding)} then, optionally, {@code RandomHorizontalFlip()}, on a square
 * C*H*W image in [0, 1]: the image is padded by {@code padding} pixels on every side with 0 (torchvision's default
 * {@code fill=0, padding_mode='constant'}, applied to the raw image before {@code Normalize}: so the border is black,
 * not the mean colour, as in the CIFAR recipes this copies), and a window of the original size is cut out at a
 * place drawn uniformly: the content moves by at most {@code padding} pixels each way. The size never changes.
 *
 * <p>All randomness comes from the {@link Random} given to {@link #apply}, in torchvision's order: the window's
 * top, its left, then the flip.
 *
 * @param padding pixels added on each side, >= 0 (0: no shift, only the flip)
 * @param hflip   whether to mirror left-right with probability 0.5
 */
public record PadCrop(int padding, boolean hflip) {
    public PadCrop {
        if (padding < 0) throw new IllegalArgumentException("padding must be >= 0 pixels, got " + padding);
    }

    /**
     * Writes the cropped (and maybe flipped) image of src[srcOff..] to dst[dstOff..]: c * size * size floats each;
     * src and dst may be the same region.
     */
    public void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng) {
        Objects.requireNonNull(rng, "rng");
        int n = c * size * size;
        if (size < 1 || c < 1) throw new IllegalArgumentException("need an image of at least 1 channel and 1 pixel, got " + c + " x " + size + " x " + size);
        if (srcOff < 0 || srcOff > src.length - n) throw new IllegalArgumentException("src has " + src.length + " floats, need " + n + " from offset " + srcOff);
        if (dstOff < 0 || dstOff > dst.length - n) throw new IllegalArgumentException("dst has " + dst.length + " floats, need " + n + " from offset " + dstOff);
        System.arraycopy(src, srcOff, dst, dstOff, n);
        if (padding > 0) {
            // RandomCrop.get_params on the padded (size + 2p) image: top and left uniform in [0, 2p]
            int top = rng.nextInt(2 * padding + 1), left = rng.nextInt(2 * padding + 1);
            if (top != padding || left != padding) {
                // output (y, x) = padded (y + top, x + left) = source (y + top - p, x + left - p), 0 outside: an
                // integer translation, which ImageOps.affine copies exactly (no fraction to interpolate)
                ImageOps.affine(dst, dstOff, c, size, size, 1, 0, left - padding, 0, 1, top - padding, new float[c], new float[n]);
            }
        }
        if (hflip && rng.nextDouble() < 0.5) Augment.mirror(dst, dstOff, c, size);
    }

    @Override public String toString() { return "pad " + padding + " + random crop" + (hflip ? " + flip" : ""); }
}
