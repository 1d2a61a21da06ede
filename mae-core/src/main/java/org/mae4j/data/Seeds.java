package org.mae4j.data;

/**
 * Hashes that derive generator seeds from a run's seed and a position (epoch, sample, micro-step). Pure
 * functions, so every process of a data-parallel run and every resumed run derives the same seeds.
 */
public final class Seeds {
    private Seeds() {}

    /**
     * SplitMix64's finalizer: neighbouring inputs give unrelated outputs. {@code new Random(long)} only scrambles
     * its seed linearly, so nearby seeds (consecutive steps or samples) would otherwise start correlated streams.
     */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
