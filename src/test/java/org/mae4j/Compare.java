package org.mae4j;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Tensor comparisons for parity tests. The norm is the one the fixtures' README recommends:
 * {@code max|got - want| <= rtol * max|want|} over the whole tensor (many gradient entries are tiny, so an
 * element-wise relative test would only measure float noise). Failures print the worst element.
 */
public final class Compare {
    private Compare() {}

    /** Returns max|got - want| / max|want| and fails when it exceeds rtol. */
    public static double assertClose(String what, INDArray got, INDArray want, double rtol) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] g = got.dup('c').reshape(got.length()).toDoubleVector();
        double[] w = want.dup('c').reshape(want.length()).toDoubleVector();
        double maxRef = 0, worst = -1;
        int at = -1;
        for (int i = 0; i < w.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(w[i]));
            double d = Math.abs(g[i] - w[i]);
            if (!(d <= worst)) { worst = d; at = i; }   // NaN counts as worst
        }
        double rel = worst / Math.max(maxRef, Double.MIN_NORMAL);
        if (!(rel <= rtol)) {
            fail(String.format("%s: max|got-want|/max|want| = %.3e > %.1e; worst element %s: got %.9g, want %.9g (max|want| %.4g)",
                    what, rel, rtol, Arrays.toString(Shape.ind2subC(want.shape(), at)), g[at], w[at], maxRef));
        }
        return rel;
    }

    /** Exact equality of values (after converting both to double), reporting the first difference. */
    public static void assertExact(String what, INDArray got, INDArray want) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        double[] g = got.dup('c').reshape(got.length()).toDoubleVector();
        double[] w = want.dup('c').reshape(want.length()).toDoubleVector();
        for (int i = 0; i < w.length; i++) {
            if (Double.compare(g[i], w[i]) != 0) {
                fail(what + ": first difference at " + Arrays.toString(Shape.ind2subC(want.shape(), i)) + ": got " + g[i] + ", want " + w[i]);
            }
        }
    }
}
