package org.mae4j.train;

import java.util.Arrays;

/**
 * The communication between the processes of a data-parallel run, as the training engine needs it: element-wise
 * sums over all processes, and what can be built from them. Implementations live outside mae-core
 * (mae-distributed's XGBoost4J one), so mae-core depends on no networking; {@link #LOCAL} is the one-process run.
 * Every process must make the same calls in the same order with the same lengths.
 */
public interface Collective extends AutoCloseable {
    /** This process's rank, 0 .. worldSize - 1; rank 0 writes checkpoints and metrics. */
    int rank();

    /** The number of processes. */
    int worldSize();

    /**
     * Replaces {@code buf[0, n)} by its element-wise sum over all processes.
     *
     * @throws IllegalStateException if a process is lost or the reduction did not happen
     */
    void allReduceSum(float[] buf, int n);

    /** Releases the connections; no collective call may follow. */
    @Override void close();

    /** Replaces {@code buf[0, n)} by rank 0's values (a sum in which every other rank contributes zeros: exact). */
    default void broadcast(float[] buf, int n) {
        if (worldSize() == 1) return;
        if (rank() != 0) Arrays.fill(buf, 0, n, 0f);
        allReduceSum(buf, n);
    }

    /** Returns until every process has called it too. */
    default void barrier() { allReduceSum(new float[1], 1); }

    /**
     * Every process's {@code value}, by rank. Built on the float sum: each rank fills its own slot with the value's
     * four 16-bit pieces and the others leave zeros, so every sum is of one integer below 2^16 and exact.
     */
    default long[] allGather(long value) {
        int w = worldSize();
        if (w == 1) return new long[] {value};
        float[] buf = new float[4 * w];
        for (int k = 0; k < 4; k++) buf[4 * rank() + k] = (value >>> (16 * k)) & 0xFFFF;
        allReduceSum(buf, buf.length);
        long[] out = new long[w];
        for (int r = 0; r < w; r++) {
            long v = 0;
            for (int k = 0; k < 4; k++) v |= ((long) buf[4 * r + k]) << (16 * k);
            out[r] = v;
        }
        return out;
    }

    /** One process: nothing to communicate. */
    Collective LOCAL = new Collective() {
        @Override public int rank() { return 0; }
        @Override public int worldSize() { return 1; }
        @Override public void allReduceSum(float[] buf, int n) {}
        @Override public void close() {}
        @Override public String toString() { return "one process"; }
    };
}
