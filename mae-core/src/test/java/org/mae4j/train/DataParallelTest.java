package org.mae4j.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What the engine exchanges, against a stand-in for the other rank of two. */
class DataParallelTest {
    /** Rank {@code rank} of two; the other rank contributes {@code other} (its value at index i is other[i]). */
    private static Collective pair(int rank, float[] other) {
        return new Collective() {
            @Override public int rank() { return rank; }
            @Override public int worldSize() { return 2; }
            @Override public void allReduceSum(float[] buf, int n) { for (int i = 0; i < n; i++) buf[i] += other[i]; }
            @Override public void close() {}
        };
    }

    @Test
    void reducesAViewInPlaceWithTheLossAndStopRidingAlong() {
        INDArray whole = Nd4j.createFromArray(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);
        INDArray view = whole.get(NDArrayIndex.interval(2, 6));   // 2, 3, 4, 5 at offset 2
        // the other rank's gradients 10, 20, 30, 40, its loss 0.5, and its stop request
        DataParallel dp = new DataParallel(pair(0, new float[] {10, 20, 30, 40, 0.5f, 1}));
        DataParallel.Sums s = dp.reduce(view, 0.25, false);
        assertArrayEquals(new float[] {0, 1, 12, 23, 34, 45, 6, 7}, whole.toFloatVector(), "only the view, summed");
        assertEquals(0.75, s.lossSum(), 1e-7);
        assertTrue(s.stop(), "one rank asked to stop");
    }

    @Test
    void broadcastGivesRankOneRankZerosValues() {
        INDArray mine = Nd4j.createFromArray(9f, 9f, 9f);
        new DataParallel(pair(1, new float[] {1, 2, 3})).broadcast(mine);   // rank 1 contributes zeros
        assertArrayEquals(new float[] {1, 2, 3}, mine.toFloatVector());
    }

    @Test
    void gatherNamesTheRanksThatDiffer() {
        long mine = 0xFEDC_BA98_7654_3210L;
        // the stand-in adds rank 1's slot: four 16-bit pieces of another value
        long theirs = mine ^ 1;
        float[] slot = new float[8];
        for (int k = 0; k < 4; k++) slot[4 + k] = (theirs >>> (16 * k)) & 0xFFFF;
        assertEquals(List.of(1), new DataParallel(pair(0, slot)).differFromRank0(mine));
        for (int k = 0; k < 4; k++) slot[4 + k] = (mine >>> (16 * k)) & 0xFFFF;
        assertEquals(List.of(), new DataParallel(pair(0, slot)).differFromRank0(mine));
    }

    @Test
    void fingerprintsSeeOneChangedBit() {
        DataParallel dp = new DataParallel(Collective.LOCAL);
        INDArray a = Nd4j.createFromArray(1f, 2f, 3f);
        long before = dp.fingerprint(a);
        a.putScalar(1, Math.nextUp(2f));
        assertNotEquals(before, dp.fingerprint(a));
    }
}
