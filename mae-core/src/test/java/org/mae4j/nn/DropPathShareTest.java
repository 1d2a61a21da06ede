package org.mae4j.nn;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Drop-path draws of a share of a global batch: the shares of W processes put together are one process's draws. */
class DropPathShareTest {

    private static boolean[][] calls(DropPath.MaskSource src, int n, int calls) {
        boolean[][] out = new boolean[calls][n];
        for (int c = 0; c < calls; c++) src.draw(0.4, out[c]);
        return out;
    }

    @Test
    void sharesTogetherAreTheWholeBatchsDraws() {
        int global = 12, calls = 5;
        boolean[][] whole = calls(DropPath.MaskSource.random(new Random(9)), global, calls);
        assertArrayEquals(whole, calls(DropPath.MaskSource.share(new Random(9), 0, global), global, calls), "one share of everything is the plain source");
        for (int shares : new int[] {2, 3, 4}) {
            int n = global / shares;
            for (int s = 0; s < shares; s++) {
                boolean[][] part = calls(DropPath.MaskSource.share(new Random(9), s * n, global), n, calls);
                for (int c = 0; c < calls; c++) {
                    for (int b = 0; b < n; b++) assertEquals(whole[c][s * n + b], part[c][b], shares + " shares, share " + s + ", call " + c + ", sample " + b);
                }
            }
        }
        int dropped = 0;
        for (boolean[] row : whole) for (boolean k : row) if (!k) dropped++;
        assertTrue(dropped > 0 && dropped < global * calls, "p = 0.4 drops some and keeps some: " + dropped);
    }

    @Test
    void aShareOutsideTheBatchIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> DropPath.MaskSource.share(new Random(1), 8, 8));
        DropPath.MaskSource s = DropPath.MaskSource.share(new Random(1), 4, 8);
        assertThrows(IllegalArgumentException.class, () -> s.draw(0.1, new boolean[5]));
    }
}
