package org.mae4j.mae;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fixed 2-D sin-cos position table of the reference: [1 + L, E], row 0 (cls) zeros; for the patch at
 * grid row r, column q, row 1 + r*grid + q is [sin(q w) | cos(q w) | sin(r w) | cos(r w)], w_k = 10000^(-k/(E/4)).
 * Computed in double and rounded once, so a float table equals the reference's exactly.
 */
public final class SinCosPosEmbed {
    private SinCosPosEmbed() {}

    /** The table as doubles, [1 + grid^2][width]. */
    public static double[][] values(int width, int grid) {
        if (width <= 0 || width % 4 != 0) throw new IllegalArgumentException("sin-cos position embedding needs a positive width divisible by 4, got " + width);
        if (grid <= 0) throw new IllegalArgumentException("grid must be positive, got " + grid);
        int n = width / 4;
        double[] omega = new double[n];
        for (int k = 0; k < n; k++) omega[k] = 1.0 / Math.pow(10000.0, (double) k / n);
        double[][] t = new double[1 + grid * grid][width];
        for (int r = 0; r < grid; r++) {
            for (int q = 0; q < grid; q++) {
                double[] row = t[1 + r * grid + q];
                for (int k = 0; k < n; k++) {
                    row[k] = Math.sin(q * omega[k]);
                    row[n + k] = Math.cos(q * omega[k]);
                    row[2 * n + k] = Math.sin(r * omega[k]);
                    row[3 * n + k] = Math.cos(r * omega[k]);
                }
            }
        }
        return t;
    }

    /** The table as a new array [1 + grid^2, width] of the given dtype. */
    public static INDArray table(int width, int grid, DataType dtype) {
        return Nd4j.createFromArray(values(width, grid)).castTo(dtype);
    }
}
