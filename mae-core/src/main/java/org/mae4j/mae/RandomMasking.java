package org.mae4j.mae;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Random;

/**
 * Per-sample random masking (the reference's {@code random_masking}): the K = int(L * (1 - ratio)) patches
 * with the smallest noise are kept. The core is a pure function of the noise; sampling is a thin wrapper
 * over a caller-supplied generator.
 */
public final class RandomMasking {
    private RandomMasking() {}

    /** K for L patches at this ratio, truncating like the reference. */
    public static int numKept(int l, double ratio) {
        if (!(ratio >= 0 && ratio < 1)) throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + ratio);
        int k = (int) (l * (1 - ratio));
        if (k < 1) throw new IllegalArgumentException("mask ratio " + ratio + " keeps no patch out of " + l);
        return k;
    }

    /** noise [N, L] (any floating dtype) -> the mask sample; ties are broken by patch index. */
    public static MaskSample fromNoise(INDArray noise, double ratio) {
        if (noise.rank() != 2) throw new IllegalArgumentException("noise must be [N, L], got " + Arrays.toString(noise.shape()));
        return fromNoise(noise.toDoubleMatrix(), ratio);
    }

    /** noise[b][l] -> the mask sample; ties are broken by patch index. */
    public static MaskSample fromNoise(double[][] noise, double ratio) {
        if (noise.length == 0 || noise[0].length == 0) throw new IllegalArgumentException("noise must be [N, L] with N, L >= 1, got an empty array");
        int n = noise.length, l = noise[0].length, k = numKept(l, ratio);
        int[] shuffle = new int[n * l], restore = new int[n * l];
        for (int b = 0; b < n; b++) {
            double[] row = noise[b];
            if (row.length != l) throw new IllegalArgumentException("noise row " + b + " has " + row.length + " values, expected " + l);
            for (double v : row) if (Double.isNaN(v)) throw new IllegalArgumentException("noise row " + b + " contains NaN");
            Integer[] order = new Integer[l];
            for (int i = 0; i < l; i++) order[i] = i;
            Arrays.sort(order, (x, y) -> Double.compare(row[x], row[y]));  // stable: ties keep index order
            for (int i = 0; i < l; i++) {
                shuffle[b * l + i] = order[i];
                restore[b * l + order[i]] = i;
            }
        }
        return new MaskSample(n, l, k, shuffle, restore);
    }

    /** Uniform [0, 1) noise from the given generator, then {@link #fromNoise(double[][], double)}. */
    public static MaskSample sample(int n, int l, double ratio, Random rng) {
        double[][] noise = new double[n][l];
        for (double[] row : noise) for (int i = 0; i < l; i++) row[i] = rng.nextDouble();
        return fromNoise(noise, ratio);
    }
}
