package org.mae4j.examples.viz;

/**
 * The shape of a batch given to {@link ReconstructionGrid}: {@code n} images of {@code channels} x {@code height}
 * x {@code width} (CHW, row-major), cut into square patches of {@code patchSize}. Patch {@code l = r * (width /
 * patchSize) + q} covers grid row {@code r}, column {@code q}, the order the encoder's patch embedding uses.
 *
 * @param n         number of images (at least 1)
 * @param channels  1 (grey) or 3 (RGB)
 * @param height    image height in pixels, divisible by {@code patchSize}
 * @param width     image width in pixels, divisible by {@code patchSize}
 * @param patchSize side of a square patch in pixels
 */
public record GridShape(int n, int channels, int height, int width, int patchSize) {

    public GridShape {
        if (n < 1) throw new IllegalArgumentException("n (number of images) must be at least 1, got " + n);
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 (grey) or 3 (RGB), got " + channels);
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be positive, got height " + height + ", width " + width);
        }
        if (patchSize < 1) throw new IllegalArgumentException("patch size must be at least 1, got " + patchSize);
        if (height % patchSize != 0 || width % patchSize != 0) {
            throw new IllegalArgumentException("image height " + height + " and width " + width
                    + " must both be divisible by the patch size " + patchSize);
        }
        long values = (long) n * channels * height * width;
        if (values > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("n*channels*height*width = " + n + "*" + channels + "*" + height + "*"
                    + width + " = " + values + " does not fit in a Java array");
        }
    }

    /** Patches per image row. */
    public int patchCols() { return width / patchSize; }

    /** Patches per image column. */
    public int patchRows() { return height / patchSize; }

    /** L, the number of patches per image. */
    public int patchesPerImage() { return patchRows() * patchCols(); }

    /** C*H*W. */
    public int valuesPerImage() { return channels * height * width; }

    /** The patch index of pixel (y, x). */
    int patchOf(int y, int x) { return (y / patchSize) * patchCols() + x / patchSize; }

    /** Checks that an image-shaped array holds exactly n*C*H*W values. */
    void checkImages(String name, float[] values) {
        if (values == null) throw new IllegalArgumentException(name + " is null");
        long expected = (long) n * valuesPerImage();
        if (values.length != expected) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected n*C*H*W = " + n + "*"
                    + channels + "*" + height + "*" + width + " = " + expected);
        }
    }

    /** Checks that the mask holds n*L entries, each exactly 0 (visible) or 1 (hidden). */
    void checkMask(float[] mask) {
        if (mask == null) throw new IllegalArgumentException("mask is null");
        long expected = (long) n * patchesPerImage();
        if (mask.length != expected) {
            throw new IllegalArgumentException("mask has " + mask.length + " values, expected n*L = " + n + "*"
                    + patchesPerImage() + " = " + expected + " (L = (" + height + "/" + patchSize + ")*(" + width + "/"
                    + patchSize + ") patches per image)");
        }
        for (int i = 0; i < mask.length; i++) {
            // Anything else (a soft mask, NaN) would have no agreed meaning for "hidden", so refuse it.
            if (mask[i] != 0f && mask[i] != 1f) {
                throw new IllegalArgumentException("mask[" + i + "] = " + mask[i]
                        + " (image " + i / patchesPerImage() + ", patch " + i % patchesPerImage()
                        + ") is neither 0 (visible) nor 1 (hidden)");
            }
        }
    }
}
