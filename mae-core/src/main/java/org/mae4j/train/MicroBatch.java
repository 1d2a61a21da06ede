package org.mae4j.train;

import org.mae4j.data.Seeds;

import java.util.Random;

/**
 * One forward/backward pass's share of a global batch, as {@link Trainable#forwardBackward} receives it.
 *
 * @param inputs    n samples of {@code inputs.length / n} floats each (images C*H*W, augmented and normalized; or features)
 * @param labels    class per sample, or null when unlabeled
 * @param n         samples in this share
 * @param offset    position of the first of them in the global micro-batch (0 in a single process)
 * @param global    samples in the global micro-batch (n * processes)
 * @param epoch     the epoch (0-based)
 * @param microStep index of this pass over the whole run: with the seed it keys every random draw of the pass
 * @param seed      the run's seed
 */
public record MicroBatch(float[] inputs, int[] labels, int n, int offset, int global, int epoch, long microStep, long seed) {

    /**
     * The pass's random generator: a pure function of (seed, micro-step), the same in every process. A model
     * that draws per-sample noise in sample order skips {@code offset} samples' worth of draws first, so that W
     * processes together draw what one process draws for the whole global batch.
     */
    public Random random() {
        return new Random(Seeds.mix64(seed * 0x9E3779B97F4A7C15L + microStep));   // neighbouring steps: unrelated seeds
    }
}
