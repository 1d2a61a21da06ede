package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PositionTables}; the match with the reference's resampling is EmbedderParityTest's (posembed-interp fixture). */
class PositionTablesTest {

    private static INDArray random(long seed, int grid, int d) {
        Random r = new Random(seed);
        double[] v = new double[(1 + grid * grid) * d];
        for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
        return Nd4j.createFromArray(v).reshape(1, 1 + grid * grid, d).castTo(DataType.FLOAT);
    }

    /** Keys' kernel at integer offsets: W(0) = 1, W(1) = W(2) = 0; so the same grid reads each sample alone. */
    @Test
    void sameGridIsTheIdentity() {
        assertEquals(1.0, PositionTables.cubic(0), 0);
        assertEquals(0.0, PositionTables.cubic(1), 0);
        assertEquals(0.0, PositionTables.cubic(2), 0);
        INDArray t = random(1, 5, 8);
        assertArrayEquals(t.data().asFloat(), PositionTables.resampleBicubic(t, 5).data().asFloat());
    }

    /** The four weights of any position sum to 1, so a constant table stays constant, border clamping included. */
    @Test
    void constantsSurviveAnyResize() {
        INDArray t = Nd4j.valueArrayOf(new long[] {1, 1 + 16, 4}, 0.37f, DataType.FLOAT);
        for (int n : new int[] {1, 2, 3, 7, 9}) {
            float[] got = PositionTables.resampleBicubic(t, n).data().asFloat();
            assertEquals((1 + n * n) * 4, got.length);
            for (float v : got) assertEquals(0.37f, v, 1e-6f, "grid 4 -> " + n);
        }
    }

    /**
     * Enlarging 2 -> 4: output i sits at source (i + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (not clamped), so
     * t = 0.75 or 0.25 and Keys' weights (a = -0.75) are W(0.25) = 0.87890625, W(0.75) = 0.26171875,
     * W(1.25) = -0.10546875, W(1.75) = -0.03515625, by hand from the two cubic pieces; indices clamp to {0, 1}.
     */
    @Test
    void borderWeightsByHand() {
        double w175 = PositionTables.cubic(1.75), w075 = PositionTables.cubic(0.75), w025 = PositionTables.cubic(0.25), w125 = PositionTables.cubic(1.25);
        assertEquals(-0.03515625, w175, 1e-12);
        assertEquals(0.26171875, w075, 1e-12);
        assertEquals(0.87890625, w025, 1e-12);
        assertEquals(-0.10546875, w125, 1e-12);
        // One channel, a 2 x 2 grid varying along columns only: [[0, 1], [0, 1]].
        INDArray t = Nd4j.createFromArray(new float[] {9, 0, 1, 0, 1}).reshape(1, 5, 1);
        float[] got = PositionTables.resampleBicubic(t, 4).data().asFloat();
        assertEquals(9f, got[0], 0f, "cls row copied");
        // column 0 (source -0.25, x0 = -1, t = 0.75): taps -2, -1, 0, 1 clamp to 0, 0, 0, 1 -> only W(1.25) meets in[1] = 1
        double col0 = w125;
        // column 1 (source 0.25, x0 = 0, t = 0.25): taps -1, 0, 1, 2 clamp to 0, 0, 1, 1 with W(1.25), W(0.25), W(0.75), W(1.75)
        double col1 = w075 + w175;
        double[] wantRow = {col0, col1, 1 - col1, 1 - col0};   // mirror symmetry of the taps
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) assertEquals(wantRow[c], got[1 + r * 4 + c], 1e-6, "(" + r + "," + c + ")");
        }
    }

    @Test
    void sinCosTablesAreRegeneratedLearnedOnesResampled() {
        INDArray sincos = SinCosPosEmbed.table(16, 7, DataType.FLOAT).reshape(1, 50, 16);
        assertTrue(PositionTables.isSinCos(sincos));
        INDArray regenerated = PositionTables.forGrid(sincos, 9);
        assertArrayEquals(SinCosPosEmbed.table(16, 9, DataType.FLOAT).data().asFloat(), regenerated.data().asFloat());

        INDArray learned = sincos.add(random(2, 7, 16).mul(1e-3));
        assertFalse(PositionTables.isSinCos(learned));
        assertArrayEquals(PositionTables.resampleBicubic(learned, 9).data().asFloat(), PositionTables.forGrid(learned, 9).data().asFloat());
    }

    @Test
    void tablesThatAreNotSquareGridsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PositionTables.forGrid(Nd4j.zeros(DataType.FLOAT, 1, 11, 4), 3));
        assertTrue(e.getMessage().contains("10 patch rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PositionTables.forGrid(Nd4j.zeros(DataType.FLOAT, 10, 4), 3));
    }
}
