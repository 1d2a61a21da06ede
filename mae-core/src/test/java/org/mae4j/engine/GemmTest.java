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
            "96, 384, 1000, true, false, 1, 1",
            "1001, 50, 270, false, true, 1, 0",
            "775, 33, 40, true, false, 1, 1"})
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
        if (VectorSupport.available() && VectorGemm.worthIt()) {
            // the Java kernel itself, whatever the per-shape choice (AUTO) would pick for this shape on this machine
            new CpuKernels(2, true, CpuKernels.GemmPath.JAVA).gemm(a, ta, b, tb, c, alpha, beta);
            check(c, want, m, n, k, "Java kernel");
            c.assign(c0);
        }
        new CpuKernels(2, VectorSupport.available()).gemm(a, ta, b, tb, c, alpha, beta);
        check(c, want, m, n, k, "vector path, gemm chosen per shape");
        c.assign(c0);
        new CpuKernels(2, false).gemm(a, ta, b, tb, c, alpha, beta);
        check(c, want, m, n, k, "OpenBLAS path");
    }

    /**
     * linear (the bias added in the product's last store on the Java kernel) must equal gemm then addRowVector
     * bit for bit, on full and partial 6 x 32 tiles, one and several blocks of K, beta 0 and 1; and be the
     * naive x w^T + beta y + bias within the product's tolerance.
     */
    @ParameterizedTest(name = "m={0} in={1} out={2} beta={3} path={4}")
    @CsvSource({
            "13, 5, 33, 0, java", "13, 5, 33, 1, java", "64, 300, 96, 0, java", "385, 600, 70, 1, java",
            "7, 40, 64, 1, java", "13, 5, 33, 1, openblas", "64, 300, 96, 0, openblas"})
    void linearIsProductThenBias(int m, int in, int out, int beta, String path) {
        boolean java = path.equals("java");
        if (java) org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.available() && VectorGemm.worthIt(), "no 512-bit Vector API");
        Random r = new Random(m * 131L + in * 17L + out);
        INDArray x = view(new int[] {m, in}, r), w = view(new int[] {out, in}, r), y0 = view(new int[] {m, out}, r);
        INDArray bias = view(new int[] {1, out}, r).reshape(out);
        CpuKernels k = new CpuKernels(2, java, java ? CpuKernels.GemmPath.JAVA : CpuKernels.GemmPath.BLAS);
        INDArray fused = y0.dup(), twoPass = y0.dup();
        k.linear(x, w, fused, beta, bias);
        k.gemm(x, false, w, true, twoPass, 1, beta);
        k.addRowVector(twoPass, bias);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < out; j++) {
                float a = fused.getFloat(i, j), b = twoPass.getFloat(i, j);
                assertTrue(Float.floatToIntBits(a) == Float.floatToIntBits(b), path + ": element [" + i + ", " + j + "]: linear " + a + ", gemm + bias " + b);
            }
        }
        double[][] want = new double[m][out];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < out; j++) {
                double s = 0;
                for (int p = 0; p < in; p++) s += x.getDouble(i, p) * w.getDouble(j, p);
                want[i][j] = s + beta * y0.getDouble(i, j) + bias.getDouble(j);
            }
        }
        check(fused, want, m, out, in, path + " linear");
    }

    /** gemmTimes (the multiplier applied in the product's last store on the Java kernel) must equal gemm then multiply bit for bit. */
    @ParameterizedTest(name = "m={0} n={1} k={2} tA={3} tB={4} path={5}")
    @CsvSource({
            "13, 33, 5, false, false, java", "64, 96, 300, false, false, java", "385, 70, 600, false, true, java",
            "50, 96, 17, true, false, java", "13, 33, 5, false, false, openblas"})
    void gemmTimesIsProductThenMultiply(int m, int n, int k, boolean ta, boolean tb, String path) {
        boolean java = path.equals("java");
        if (java) org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.available() && VectorGemm.worthIt(), "no 512-bit Vector API");
        Random r = new Random(m * 37L + n * 11L + k);
        INDArray a = view(ta ? new int[] {k, m} : new int[] {m, k}, r), b = view(tb ? new int[] {n, k} : new int[] {k, n}, r);
        INDArray mul = view(new int[] {m, n}, r);
        CpuKernels kk = new CpuKernels(2, java, java ? CpuKernels.GemmPath.JAVA : CpuKernels.GemmPath.BLAS);
        INDArray fused = view(new int[] {m, n}, r), twoPass = fused.dup();
        kk.gemmTimes(a, ta, b, tb, fused, mul);
        kk.gemm(a, ta, b, tb, twoPass, 1, 0);
        kk.multiply(twoPass, mul, twoPass);
        double[][] want = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float x = fused.getFloat(i, j), y = twoPass.getFloat(i, j);
                assertTrue(Float.floatToIntBits(x) == Float.floatToIntBits(y), path + ": element [" + i + ", " + j + "]: gemmTimes " + x + ", gemm then multiply " + y);
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a.getDouble(p, i) : a.getDouble(i, p)) * (tb ? b.getDouble(j, p) : b.getDouble(p, j));
                want[i][j] = s * mul.getDouble(i, j);
            }
        }
        check(fused, want, m, n, k, path + " gemmTimes");
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
