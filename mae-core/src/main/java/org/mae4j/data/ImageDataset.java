package org.mae4j.data;

import java.util.List;

/**
 * A fixed, indexable set of square images, each read as C*H*W floats in [0, 1] (channel-major, rows top to
 * bottom, pixels left to right: the layout {@code Patchify} and the model expect).
 *
 * <p>Implementations must allow {@link #image} to be called from a thread other than the one that created
 * the dataset ({@link BatchLoader} decodes on a background thread), and must not change after construction,
 * so that a run that resumes at epoch e sees exactly the images an uninterrupted run would have seen.
 */
public interface ImageDataset {

    /** Number of images. */
    int size();

    /** C: 1 (grey) or 3 (RGB). */
    int channels();

    /** H = W, the side of every image in pixels. */
    int imageSize();

    /** Floats per image: C*H*W. */
    default int imageLength() {
        return channels() * imageSize() * imageSize();
    }

    /**
     * Writes image {@code i} into {@code dst[offset .. offset + imageLength())} as C*H*W floats in [0, 1].
     *
     * @throws IndexOutOfBoundsException if i is not in [0, size()) or dst is too short
     * @throws java.io.UncheckedIOException if the image cannot be read or decoded (the message names the file)
     */
    void image(int i, float[] dst, int offset);

    /** Whether every image has a class label. */
    boolean hasLabels();

    /**
     * The class of image {@code i}, an index into {@link #classNames()}.
     *
     * @throws IllegalStateException if the dataset is unlabeled
     */
    int label(int i);

    /** Class names in label order; empty for an unlabeled dataset. */
    List<String> classNames();
}
