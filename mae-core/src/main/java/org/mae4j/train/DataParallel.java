package org.mae4j.train;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the engine exchanges between the processes of a data-parallel run, over a {@link Collective}: the
 * gradient sum (with the step's loss and stop request riding in the same reduction), rank 0's parameters,
 * and fingerprints that must agree. One reusable float buffer; FLOAT parameters only (a float reduction
 * would silently round DOUBLE ones).
 */
final class DataParallel {
    /** Optimizer steps between two comparisons of the parameters' fingerprints across ranks. */
    static final int CHECK_EVERY = 50;

    private final Collective c;
    private float[] buf = new float[0];

    DataParallel(Collective c) { this.c = c; }

    /** The sums of one step: the global loss sum, and whether any rank asked to stop. */
    record Sums(double lossSum, boolean stop) {}

    /** Replaces grads by their sum over all ranks; returns the sum of the ranks' losses and whether any asked to stop. */
    Sums reduce(INDArray grads, double loss, boolean stop) {
        int n = load(grads, 2);
        buf[n] = (float) loss;
        buf[n + 1] = stop ? 1f : 0f;
        c.allReduceSum(buf, n + 2);
        store(grads, n);
        return new Sums(buf[n], buf[n + 1] > 0);
    }

    /** Replaces a (flat) array by rank 0's. */
    void broadcast(INDArray a) {
        int n = load(a, 0);
        c.broadcast(buf, n);
        store(a, n);
    }

    /** The ranks whose value differs from rank 0's (empty: all agree). */
    List<Integer> differFromRank0(long value) {
        long[] all = c.allGather(value);
        List<Integer> differ = new ArrayList<>();
        for (int r = 1; r < all.length; r++) if (all[r] != all[0]) differ.add(r);
        return differ;
    }

    /** FNV-1a over the float bits: equal parameters give equal fingerprints, any changed bit (almost surely) not. */
    long fingerprint(INDArray a) {
        int n = load(a, 0);
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < n; i++) h = (h ^ Float.floatToRawIntBits(buf[i])) * 0x100000001b3L;
        return h;
    }

    static long fingerprint(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        return h;
    }

    /** Copies a into buf[0, n) leaving {@code extra} free slots after it; returns n. */
    private int load(INDArray a, int extra) {
        if (a.dataType() != DataType.FLOAT) throw new IllegalArgumentException("data-parallel training needs FLOAT parameters, got " + a.dataType());
        long len = a.length();
        if (len + extra > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("a buffer of " + len + " values is too large to reduce in one piece");
        int n = (int) len;
        if (buf.length < n + extra) buf = new float[n + extra];
        nio(a).get(buf, 0, n);
        return n;
    }

    private void store(INDArray a, int n) { nio(a).put(buf, 0, n); }

    private static FloatBuffer nio(INDArray a) {
        if (!a.isVectorOrScalar() || a.elementWiseStride() != 1) throw new IllegalArgumentException("expected a contiguous flat buffer, got shape " + a.shapeInfoToString());
        FloatBuffer fb = a.data().asNioFloat();
        fb.position((int) a.offset());
        return fb;
    }
}
