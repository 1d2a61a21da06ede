package org.mae4j.distributed;

import org.mae4j.train.Collective;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Test double: the ranks are threads sharing memory; sums in rank order. {@code corrupt} is added to rank
 * {@code corruptRank}'s gradient sums (reductions longer than 100 values, but not their last two: loss and stop), to fake a broken reduction.
 */
final class ThreadCollective implements Collective {
    static final class Group {
        final int world;
        final CyclicBarrier barrier;
        final float[][] slots;
        Group(int world) { this.world = world; this.barrier = new CyclicBarrier(world); this.slots = new float[world][]; }
    }

    private final Group g;
    private final int rank;
    private final int corruptRank;
    private final float corrupt;

    ThreadCollective(Group g, int rank, int corruptRank, float corrupt) { this.g = g; this.rank = rank; this.corruptRank = corruptRank; this.corrupt = corrupt; }

    @Override public int rank() { return rank; }
    @Override public int worldSize() { return g.world; }

    @Override
    public void allReduceSum(float[] buf, int n) {
        g.slots[rank] = java.util.Arrays.copyOf(buf, n);
        await();
        for (int i = 0; i < n; i++) {
            float s = 0;
            for (int r = 0; r < g.world; r++) s += g.slots[r][i];
            buf[i] = s + (rank == corruptRank && n > 100 && i < n - 2 ? corrupt : 0f);   // the gradients, not the loss and stop slots
        }
        await();
    }

    private void await() {
        try {
            g.barrier.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("rank " + rank + ": " + e, e);
        }
    }

    @Override public void close() {}
}
