package org.mae4j.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU path's matrix product (the Java AVX-512 kernel where the JVM has 512-bit vectors, OpenBLAS
 * otherwise) against a naive double-precision product: every transpose combination, sizes that are not
 * multiples of the 6 x 32 tile or of the 256-step blocks, alpha/beta, and operands that are views with an
 * offset into a bigger buffer. Tolerance: max|got - want| <= 1e-5 * max|want| * sqrt(k)/4 + 1e-6.
 */
class GemmTest {

    @ParameterizedTest(name = "m={0} n={1} k={2} tA={3} tB={4} alpha={5} beta={6}")
    @CsvSource({
            "1, 1, 1, false, false, 1, 0",
            "7, 33, 5, false, false, 1, 0",
            "13, 70, 300, false, true, 1, 1",
            "50, 96, 17, true, false, 1, 1",
            "385, 40, 513, true, true, 0.5, -2",
            "6, 32, 256, false, false, 2, 0.5",
            "200, 600, 64, false, true, 1, 0",
            "96, 384, 1000, true, false, 1, 1"})
    void matchesNaiveProduct(int m, int n, int k, boolean ta, boolean tb, double alpha, double beta) {
        Random r = new Random(m * 31L + n * 7L + k);
        INDArray a = view(ta ? new int[] {k, m} : new int[] {m, k}, r);
        INDArray b = view(tb ? new int[] {n, k} : new int[] {k, n}, r);
        INDArray c = view(new int[] {m, n}, r);
        double[][] want = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a.getDouble(p, i) : a.getDouble(i, p)) * (tb ? b.getDouble(j, p) : b.getDouble(p, j));
                want[i][j] = alpha * s + beta * c.getDouble(i, j);
            }
        }
        INDArray c0 = c.dup();
        CpuKernels javaPath = new CpuKernels(2, VectorSupport.available());
        javaPath.gemm(a, ta, b, tb, c, alpha, beta);
        check(c, want, m, n, k, "vector path (java gemm: " + javaPath.usesJavaGemm() + ")");
        c.assign(c0);
        new CpuKernels(2, false).gemm(a, ta, b, tb, c, alpha, beta);
        check(c, want, m, n, k, "OpenBLAS path");
    }

    private static void check(INDArray c, double[][] want, int m, int n, int k, String path) {
        double maxRef = 0, worst = 0;
        int wi = 0, wj = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                maxRef = Math.max(maxRef, Math.abs(want[i][j]));
                double d = Math.abs(c.getDouble(i, j) - want[i][j]);
                if (!(d <= worst)) { worst = d; wi = i; wj = j; }
            }
        }
        double tol = 1e-5 * maxRef * Math.sqrt(k) / 4 + 1e-6;
        assertTrue(worst <= tol, path + ": worst element [" + wi + ", " + wj + "]: got " + c.getDouble(wi, wj) + ", want " + want[wi][wj] + " (tol " + tol + ")");
    }

    /** A [rows, cols] view at an offset inside a bigger flat buffer, filled with N(0,1). */
    private static INDArray view(int[] shape, Random r) {
        int len = shape[0] * shape[1], off = 1 + r.nextInt(5);
        INDArray flat = Nd4j.create(DataType.FLOAT, len + off + 3);
        float[] v = new float[len + off + 3];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        flat.assign(Nd4j.createFromArray(v));
        return flat.get(NDArrayIndex.interval(off, off + len)).reshape('c', shape[0], shape[1]);
    }
}
