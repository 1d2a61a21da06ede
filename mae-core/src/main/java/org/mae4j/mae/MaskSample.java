package org.mae4j.mae;

import java.util.Arrays;

/**
 * Which patches each image keeps. Per image b: {@code idsShuffle} lists patches by ascending noise (the
 * first K are kept, in that order), {@code idsRestore[l]} is the rank of patch l, and patch l is removed
 * (mask 1) iff {@code idsRestore[l] >= K}. Arrays are flattened [N*L], row b at b*L.
 */
public record MaskSample(int n, int l, int k, int[] idsShuffle, int[] idsRestore) {

    public MaskSample {
        if (n <= 0 || l <= 0 || k < 1 || k > l) throw new IllegalArgumentException("bad mask sample sizes: N=" + n + " L=" + l + " K=" + k);
        if (idsShuffle.length != n * l || idsRestore.length != n * l) {
            throw new IllegalArgumentException("index arrays must have N*L = " + n * l + " entries, got " + idsShuffle.length + " and " + idsRestore.length);
        }
        idsShuffle = idsShuffle.clone();
        idsRestore = idsRestore.clone();
    }

    /** Every patch kept, in image order (mask ratio 0): what feature extraction uses. */
    public static MaskSample keepAll(int n, int l) {
        int[] ids = new int[n * l];
        for (int i = 0; i < ids.length; i++) ids[i] = i % l;
        return new MaskSample(n, l, l, ids, ids);
    }

    /** Patch index of the k-th kept patch of image b. */
    public int kept(int b, int k) { return idsShuffle[b * l + k]; }

    /** Rank of patch l of image b in ascending-noise order. */
    public int rank(int b, int patch) { return idsRestore[b * l + patch]; }

    /** True if patch l of image b is hidden from the encoder. */
    public boolean removed(int b, int patch) { return idsRestore[b * l + patch] >= k; }

    /** The reference's mask, [N][L] flattened: 1 = removed, 0 = kept. */
    public double[] mask() {
        double[] m = new double[n * l];
        for (int i = 0; i < m.length; i++) m[i] = idsRestore[i] >= k ? 1 : 0;
        return m;
    }

    @Override public int[] idsShuffle() { return idsShuffle.clone(); }
    @Override public int[] idsRestore() { return idsRestore.clone(); }

    @Override public boolean equals(Object o) {
        return o instanceof MaskSample m && m.n == n && m.l == l && m.k == k
                && Arrays.equals(m.idsShuffle, idsShuffle) && Arrays.equals(m.idsRestore, idsRestore);
    }
    @Override public int hashCode() { return 31 * Arrays.hashCode(idsShuffle) + k; }
    @Override public String toString() { return "MaskSample[N=" + n + ", L=" + l + ", K=" + k + "]"; }
}
