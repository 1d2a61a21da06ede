package org.mae4j.mae;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Position tables for a patch grid other than the one a model was trained on, so that weights trained at one
 * image size can be used at another. A fixed 2-D sin-cos table (pretraining) is regenerated for the new grid,
 * which is what the model would have had if it had been built at that size; a learned table (after
 * fine-tuning) is resampled like the reference's {@code util/pos_embed.interpolate_pos_embed}: the cls row is
 * kept, the g x g patch rows, seen as a [D, g, g] image, go through PyTorch's
 * {@code interpolate(mode='bicubic', align_corners=False)} to n x n.
 * Shapes: table [1, 1+g*g, D] -> [1, 1+n*n, D].
 */
public final class PositionTables {
    private PositionTables() {}

    /** PyTorch's bicubic convolution constant (Keys' a), used by upsample_bicubic2d. */
    private static final double A = -0.75;

    /**
     * The table for an n x n grid: the sin-cos table of that grid when {@code table} is the sin-cos table of
     * its own grid (within float rounding), the bicubic resampling of {@code table} otherwise; a copy of the
     * input when the grid is unchanged. The result has the input's dtype.
     */
    public static INDArray forGrid(INDArray table, int n) {
        int g = gridOf(table);
        int d = (int) table.size(2);
        if (n < 1) throw new IllegalArgumentException("grid must be positive, got " + n);
        if (n == g) return table.dup('c');
        if (isSinCos(table)) return SinCosPosEmbed.table(d, n, DataType.DOUBLE).reshape('c', 1, 1 + (long) n * n, d).castTo(table.dataType());
        return resampleBicubic(table, n);
    }

    /**
     * True when the table is the fixed 2-D sin-cos table of its grid: float32 rounding of the double values, so
     * 1e-6 absolute leaves room for other float32 computations (HuggingFace) while a trained table, moved by
     * every optimizer step, is far outside it.
     */
    public static boolean isSinCos(INDArray table) {
        int g = gridOf(table), d = (int) table.size(2);
        if (d % 4 != 0) return false;
        double[] have = table.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[][] want = SinCosPosEmbed.values(d, g);
        for (int r = 0; r < want.length; r++) {
            for (int c = 0; c < d; c++) if (Math.abs(have[r * d + c] - want[r][c]) > 1e-6) return false;
        }
        return true;
    }

    /**
     * The reference's interpolate_pos_embed: row 0 copied, the patch rows resampled bicubically to n x n
     * (align_corners=False, a = -0.75, border indices clamped, no antialiasing), computed in double.
     * table [1, 1+g*g, D] -> [1, 1+n*n, D], same dtype.
     */
    public static INDArray resampleBicubic(INDArray table, int n) {
        int g = gridOf(table), d = (int) table.size(2);
        if (n < 1) throw new IllegalArgumentException("grid must be positive, got " + n);
        double[] in = table.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int[][] idx = new int[n][4];
        double[][] w = new double[n][4];
        taps(g, n, idx, w);
        double[] out = new double[(1 + n * n) * d];
        System.arraycopy(in, 0, out, 0, d);
        // Separable: along columns first (into [g rows][n cols][d]), then along rows.
        double[] tmp = new double[g * n * d];
        for (int r = 0; r < g; r++) {
            for (int j = 0; j < n; j++) {
                int o = (r * n + j) * d;
                for (int t = 0; t < 4; t++) {
                    int src = (1 + r * g + idx[j][t]) * d;
                    double wt = w[j][t];
                    for (int c = 0; c < d; c++) tmp[o + c] += wt * in[src + c];
                }
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int o = (1 + i * n + j) * d;
                for (int t = 0; t < 4; t++) {
                    int src = (idx[i][t] * n + j) * d;
                    double wt = w[i][t];
                    for (int c = 0; c < d; c++) out[o + c] += wt * tmp[src + c];
                }
            }
        }
        return Nd4j.createFromArray(out).reshape('c', 1, 1 + (long) n * n, d).castTo(table.dataType());
    }

    /**
     * One axis of PyTorch's bicubic resize from g to n samples: output i reads inputs idx[i][0..3] with weights
     * w[i][0..3]. The source coordinate (i + 0.5) g / n - 0.5 is not clamped (it is below 0 near the first
     * border when enlarging); only the four indices are clamped to [0, g-1], which repeats the border sample.
     */
    static void taps(int g, int n, int[][] idx, double[][] w) {
        double scale = (double) g / n;
        for (int i = 0; i < n; i++) {
            double src = (i + 0.5) * scale - 0.5;
            int x0 = (int) Math.floor(src);
            double t = src - x0;
            double[] c = {cubic(t + 1), cubic(t), cubic(1 - t), cubic(2 - t)};
            for (int k = 0; k < 4; k++) {
                idx[i][k] = Math.min(Math.max(x0 - 1 + k, 0), g - 1);
                w[i][k] = c[k];
            }
        }
    }

    /** Keys' cubic convolution kernel with a = -0.75. */
    static double cubic(double s) {
        s = Math.abs(s);
        if (s <= 1) return ((A + 2) * s - (A + 3)) * s * s + 1;
        if (s < 2) return ((A * s - 5 * A) * s + 8 * A) * s - 4 * A;
        return 0;
    }

    /** g, the side of the table's square patch grid. */
    static int gridOf(INDArray table) {
        if (table.rank() != 3 || table.size(0) != 1) {
            throw new IllegalArgumentException("a position table is [1, 1+L, D], got " + java.util.Arrays.toString(table.shape()));
        }
        long l = table.size(1) - 1;
        int g = (int) Math.round(Math.sqrt(l));
        if (l < 1 || (long) g * g != l) {
            throw new IllegalArgumentException("position table has " + l + " patch rows, not a square grid (shape "
                    + java.util.Arrays.toString(table.shape()) + ")");
        }
        return g;
    }
}
