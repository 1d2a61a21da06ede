package org.mae4j.data;

import java.util.Random;

/**
 * A per-image training transform, as {@link BatchLoader} applies it: reads one C*H*W image of src, writes the
 * model's input to dst, drawing every random number from the generator it is given (keyed on seed, epoch and
 * the image's position), so equal generator states give equal outputs.
 */
public interface Transform {
    /** The channel count it expects. */
    int channels();

    /** Transforms the image at src[srcOff..] (c x size x size floats in [0, 1]) into dst[dstOff..]. */
    void apply(float[] src, int srcOff, int c, int size, float[] dst, int dstOff, Random rng);
}
