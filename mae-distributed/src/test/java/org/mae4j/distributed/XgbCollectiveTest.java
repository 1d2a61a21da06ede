package org.mae4j.distributed;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Sums, broadcast and gather over the real XGBoost collective, three ranks as threads. */
class XgbCollectiveTest {
    @Test
    void sumsInPiecesBroadcastsAndGathers() throws Exception {
        // chunks of 7 values: 20 values take three XGBoost calls, the last one short
        List<float[][]> out = Ranks.values(Ranks.asThreads(3, Duration.ofSeconds(60), 7, c -> {
            float[] sum = new float[21];
            for (int i = 0; i < 20; i++) sum[i] = (c.rank() + 1) * (i + 1);   // rank r sends (r + 1) * (i + 1)
            sum[20] = -5;                                                      // beyond n: must stay untouched
            c.allReduceSum(sum, 20);
            float[] b = {c.rank() + 10f, c.rank() * 2f};
            c.broadcast(b, 2);
            long[] all = c.allGather(0x1234_5678_9ABC_DEF0L + c.rank());
            float[] gathered = new float[all.length];
            for (int r = 0; r < all.length; r++) gathered[r] = all[r] == 0x1234_5678_9ABC_DEF0L + r ? 1 : 0;
            c.barrier();
            return new float[][] {sum, b, gathered};
        }));
        for (float[][] r : out) {
            for (int i = 0; i < 20; i++) assertEquals((1 + 2 + 3) * (i + 1), r[0][i], "value " + i);
            assertEquals(-5f, r[0][20]);
            assertArrayEquals(new float[] {10f, 0f}, r[1], "rank 0's values everywhere");
            assertArrayEquals(new float[] {1, 1, 1}, r[2], "every rank's 64-bit value, exactly");
        }
    }
}
