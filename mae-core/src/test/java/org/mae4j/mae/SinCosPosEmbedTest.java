package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.io.Npy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SinCosPosEmbedTest {

    @Test
    void shapeAndClsRowOfZeros() {
        for (int[] wg : new int[][]{{4, 1}, {8, 3}, {32, 4}, {96, 7}}) {
            double[][] t = SinCosPosEmbed.values(wg[0], wg[1]);
            assertEquals(1 + wg[1] * wg[1], t.length);
            for (double[] row : t) assertEquals(wg[0], row.length);
            assertArrayEquals(new double[wg[0]], t[0], "row 0 (cls) must be zeros");
            INDArray f = SinCosPosEmbed.table(wg[0], wg[1], DataType.FLOAT);
            assertArrayEquals(new long[]{1 + wg[1] * wg[1], wg[0]}, f.shape());
            assertEquals(DataType.FLOAT, f.dataType());
            assertEquals(0.0, f.getRow(0).amaxNumber().doubleValue(), 0.0);
        }
    }

    /** Width 8: n = 2, w_0 = 1, w_1 = 1 / 10000^(1/2) = 0.01. Width 16: n = 4, w_k = 1, 0.1, 0.01, 0.001. */
    @Test
    void entriesByHand() {
        double[][] t = SinCosPosEmbed.values(8, 3);
        // patch at grid row r = 1, column q = 2 -> table row 1 + 1*3 + 2 = 6
        double[] want = {Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02), Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)};
        assertArrayEquals(want, t[6], 1e-15);
        // the same numbers as literals (sin 2, cos 2, sin 1, cos 1)
        assertEquals(0.9092974268256817, t[6][0], 1e-15);
        assertEquals(-0.4161468365471424, t[6][2], 1e-15);
        assertEquals(0.8414709848078965, t[6][4], 1e-15);
        assertEquals(0.5403023058681398, t[6][6], 1e-15);
        // patch (r = 0, q = 0) -> row 1: sin 0 = 0, cos 0 = 1
        assertArrayEquals(new double[]{0, 0, 1, 1, 0, 0, 1, 1}, t[1], 0.0);
        // patch (r = 2, q = 0) -> row 7
        assertArrayEquals(new double[]{0, 0, 1, 1, Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02)}, t[7], 1e-15);

        double[][] u = SinCosPosEmbed.values(16, 4);
        // patch (r = 2, q = 3) -> row 1 + 2*4 + 3 = 12; frequencies 1, 0.1, 0.01, 0.001
        double[] w = {1, 0.1, 0.01, 0.001};
        for (int k = 0; k < 4; k++) {
            assertEquals(Math.sin(3 * w[k]), u[12][k], 1e-15, "sin(q w_" + k + ")");
            assertEquals(Math.cos(3 * w[k]), u[12][4 + k], 1e-15, "cos(q w_" + k + ")");
            assertEquals(Math.sin(2 * w[k]), u[12][8 + k], 1e-15, "sin(r w_" + k + ")");
            assertEquals(Math.cos(2 * w[k]), u[12][12 + k], 1e-15, "cos(r w_" + k + ")");
        }
        assertEquals(0.29552020666133955, u[12][1], 1e-15);   // sin(0.3)
    }

    @Test
    void firstHalfFollowsTheColumnSecondHalfTheRow() {
        int width = 32, g = 5, half = width / 2;
        double[][] t = SinCosPosEmbed.values(width, g);
        for (int r1 = 0; r1 < g; r1++)
            for (int r2 = 0; r2 < g; r2++)
                for (int q = 0; q < g; q++) {
                    assertArrayEquals(Arrays.copyOfRange(t[1 + r1 * g + q], 0, half), Arrays.copyOfRange(t[1 + r2 * g + q], 0, half),
                            "first half must not depend on the row (q=" + q + ", rows " + r1 + ", " + r2 + ")");
                    // the second half of (r, q) equals the first half of the transposed position (q', r')
                    assertArrayEquals(Arrays.copyOfRange(t[1 + r1 * g + q], half, width), Arrays.copyOfRange(t[1 + q * g + r1], 0, half),
                            "second half of (r, q) = first half of (q, r)");
                }
        for (int q1 = 0; q1 < g; q1++)
            for (int q2 = 0; q2 < g; q2++)
                for (int r = 0; r < g; r++) {
                    assertArrayEquals(Arrays.copyOfRange(t[1 + r * g + q1], half, width), Arrays.copyOfRange(t[1 + r * g + q2], half, width),
                            "second half must not depend on the column (r=" + r + ")");
                    if (q1 != q2) {
                        assertNotEquals(Arrays.toString(Arrays.copyOfRange(t[1 + r * g + q1], 0, half)),
                                Arrays.toString(Arrays.copyOfRange(t[1 + r * g + q2], 0, half)), "different columns must differ");
                    }
                }
    }

    @Test
    void floatTableIsTheDoubleTableRoundedOnce() {
        double[][] t = SinCosPosEmbed.values(16, 3);
        INDArray f = SinCosPosEmbed.table(16, 3, DataType.FLOAT);
        INDArray d = SinCosPosEmbed.table(16, 3, DataType.DOUBLE);
        for (int i = 0; i < t.length; i++)
            for (int j = 0; j < 16; j++) {
                assertEquals((float) t[i][j], f.getFloat(i, j), 0f);
                assertEquals(t[i][j], d.getDouble(i, j), 0.0);
            }
    }

    /** The micro fixture's pos_embed (D = 32, grid 4) was recorded from the reference; the table must equal it exactly. */
    @Test
    void equalsTheReferenceTable() throws Exception {
        INDArray ref = Npy.read(Path.of(getClass().getResource("/npy/pos_embed.npy").toURI()));
        assertArrayEquals(new long[]{1, 17, 32}, ref.shape());
        INDArray mine = SinCosPosEmbed.table(32, 4, DataType.FLOAT);
        assertEquals(ref.reshape(17, 32), mine);
    }

    @Test
    void badSizesAreRejected() {
        for (int w : new int[]{6, 2, 30}) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SinCosPosEmbed.values(w, 4));
            assertTrue(ex.getMessage().contains(String.valueOf(w)), ex.getMessage());
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SinCosPosEmbed.table(18, 2, DataType.FLOAT));
        assertTrue(ex.getMessage().contains("18"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> SinCosPosEmbed.values(8, 0));
        assertTrue(ex.getMessage().contains("0"), ex.getMessage());
    }
}
