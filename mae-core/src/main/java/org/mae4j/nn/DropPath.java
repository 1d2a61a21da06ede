package org.mae4j.nn;

import java.util.Objects;
import java.util.Random;

/**
 * Stochastic depth as timm's {@code drop_path}: in training, each residual branch of a block is dropped for
 * whole samples, {@code dp(y)[b] = y[b] * mask[b] / keep}, mask[b] in {0, 1}, keep = 1 - drop probability.
 * Block i of a stack of depth blocks drops with probability {@code rates(rate, depth)[i]} (timm's
 * {@code torch.linspace(0, rate, depth)}, so block 0 never drops).
 */
public final class DropPath {
    private DropPath() {}

    /**
     * Where the per-sample keep decisions come from. Called once per drop-path call in forward order: block by
     * block (only blocks with a rate above 0), the attention branch, then the MLP branch.
     */
    @FunctionalInterface
    public interface MaskSource {
        /** Fills keep[0 .. n) for one call; dropProb is the block's drop probability. */
        void draw(double dropProb, boolean[] keep);

        /** Independent draws from a generator: sample b is kept with probability 1 - dropProb. */
        static MaskSource random(Random rng) {
            Objects.requireNonNull(rng, "rng");
            return (p, keep) -> { for (int b = 0; b < keep.length; b++) keep[b] = rng.nextDouble() >= p; };
        }

        /**
         * The draws of a share [offset, offset + n) of a global batch of {@code global} samples: every call draws
         * for the whole global batch and keeps its share's, so that data-parallel processes together draw what one
         * process draws (the same as {@link #random(Random)} when offset is 0 and global is n).
         */
        static MaskSource share(Random rng, int offset, int global) {
            Objects.requireNonNull(rng, "rng");
            if (offset < 0 || global < 1 || offset >= global) throw new IllegalArgumentException("share at " + offset + " of a global batch of " + global);
            return (p, keep) -> {
                if (offset + keep.length > global) throw new IllegalArgumentException(keep.length + " samples at " + offset + " exceed the global batch of " + global);
                for (int j = 0; j < global; j++) {
                    boolean k = rng.nextDouble() >= p;
                    if (j >= offset && j < offset + keep.length) keep[j - offset] = k;
                }
            };
        }

        /**
         * Replays recorded masks (the reference's {@code droppath_masks}): row k, values 0 (dropped) or 1 (kept),
         * answers call k. Fails when more calls come than rows, or a row's length is not the batch's.
         */
        static MaskSource replay(float[][] masks) {
            float[][] rows = masks.clone();
            int[] next = {0};
            return (p, keep) -> {
                if (next[0] >= rows.length) throw new IllegalStateException("drop-path replay: call " + next[0] + " but only " + rows.length + " masks were recorded");
                float[] row = rows[next[0]++];
                if (row.length != keep.length) throw new IllegalArgumentException("drop-path replay: mask of " + row.length + " samples for a batch of " + keep.length);
                for (int b = 0; b < keep.length; b++) keep[b] = row[b] != 0;
            };
        }
    }

    /**
     * Per-block drop probabilities for a drop-path rate: {@code float32(rate * i / (depth - 1))}, i = 0..depth-1,
     * as {@code torch.linspace} in float32 (a single block gets 0).
     */
    public static double[] rates(double rate, int depth) {
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + rate);
        if (depth < 1) throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        double[] r = new double[depth];
        for (int i = 1; i < depth; i++) r[i] = (float) (rate * i / (depth - 1));
        return r;
    }

    /**
     * The branch scales of one call: scale[b] = 1 / keep for kept samples, 0 for dropped ones (the 1/keep in
     * float32, as timm's {@code x.div(keep_prob)} on a float32 tensor).
     */
    static void scales(boolean[] keep, double dropProb, float[] scale) {
        float inv = 1f / (float) (1 - dropProb);
        for (int b = 0; b < keep.length; b++) scale[b] = keep[b] ? inv : 0f;
    }
}
