package org.mae4j.engine;

import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@link Kernels} method of every implementation against a naive reference in plain Java double loops,
 * on random inputs with odd sizes, for FLOAT (|got - want| <= 1e-5 * max(1, max|want|)) and, for the
 * implementations that support it, DOUBLE (1e-12 relative). Each case runs on fresh arrays and on views with
 * a nonzero offset into a bigger buffer whose other elements hold a sentinel: results are read back through
 * the big buffer, so a kernel that writes the base buffer instead of the view, or writes outside the view,
 * fails. Inputs must come back unchanged. Backward kernels are also checked against central finite
 * differences of their own forwards in double precision.
 */
class KernelsTest {

    // ------------------------------------------------------------------ implementations and cases

    // the fast path reads array memory directly, so on another backend (CUDA: docs/gpu/check.sh) only the portable one runs
    private static final List<Kernels> IMPLS = Backends.isCpu()
            ? List.of(new Nd4jKernels(), new CpuKernels(), new CpuKernels(3, false)) : List.of(new Nd4jKernels());

    /** The implementations under test (one instance each, shared by all cases). */
    static Stream<Kernels> implementations() { return IMPLS.stream(); }

    /** FLOAT-only implementations (CpuKernels) are not run in DOUBLE; they must reject it instead. */
    private static boolean floatOnly(Kernels k) { return k instanceof CpuKernels; }

    private static String label(Kernels k) {
        if (k instanceof CpuKernels c) return "CpuKernels(vectorApi=" + c.usesVectorApi() + ", javaGemm=" + c.usesJavaGemm() + ")";
        return k.getClass().getSimpleName();
    }

    /** How arrays are handed to the kernels. */
    enum Layout {
        /** fresh arrays; vectors 1-D */
        PLAIN,
        /** views at an offset inside a bigger 1-D buffer; vectors 1-D */
        VIEW,
        /** views at an offset; vectors as [1, n] */
        VIEW_ROW_VECTORS;

        boolean view() { return this != PLAIN; }
    }

    /** Problem sizes: rows, features, inner dim of the products, and attention's N, T, heads, W; patchify's p and image side. */
    enum Size {
        SMALL(7, 13, 5, 2, 5, 2, 6, 2, 6),
        /** big enough for CpuKernels to split rows over threads, T not a multiple of any vector length */
        LARGE(533, 37, 19, 3, 17, 3, 24, 3, 15);

        final int r, f, k, n, t, heads, w, p, side;

        Size(int r, int f, int k, int n, int t, int heads, int w, int p, int side) {
            this.r = r; this.f = f; this.k = k; this.n = n; this.t = t; this.heads = heads; this.w = w; this.p = p; this.side = side;
        }
    }

    static Stream<Arguments> cases() {
        return implementations().flatMap(k -> Stream.of(DataType.FLOAT, DataType.DOUBLE)
                .filter(dt -> dt == DataType.FLOAT || !floatOnly(k))
                .flatMap(dt -> Arrays.stream(Layout.values())
                        .flatMap(l -> Arrays.stream(Size.values()).map(s -> Arguments.of(Named.of(label(k), k), dt, l, s)))));
    }

    /** DOUBLE-capable implementations, small sizes, every layout: for the finite-difference checks. */
    static Stream<Arguments> doubleCases() {
        return implementations().filter(k -> !floatOnly(k))
                .flatMap(k -> Arrays.stream(Layout.values()).map(l -> Arguments.of(Named.of(label(k), k), l)));
    }

    private static final String NAME = "{0} {1} {2} {3}";

    // ------------------------------------------------------------------ arrays with a known memory layout

    private static final double SENTINEL = -777.25;

    /** An array handed to a kernel, and a 1-D view over the memory around it through which results are read. */
    private static final class Buf {
        final INDArray base;   // 1-D over the whole allocation
        final INDArray a;      // what the kernel gets
        final int off, len;
        final long[] shape;
        final DataType dt;
        double[] initial;      // the values it was filled with (as stored in dt)

        Buf(DataType dt, Layout layout, Random rng, double[] values, long... shape) {
            this.dt = dt;
            this.shape = shape;
            this.len = values.length;
            if (Arrays.stream(shape).reduce(1, (x, y) -> x * y) != len) throw new IllegalArgumentException("shape vs values");
            if (layout.view()) {
                off = 1 + rng.nextInt(7);
                base = Nd4j.create(dt, off + len + 5).assign(SENTINEL);
                a = base.get(NDArrayIndex.interval(off, off + len)).reshape('c', shape);
                assertEquals(off, a.offset(), "test setup: the view should sit at offset " + off);
            } else {
                off = 0;
                a = Nd4j.create(dt, shape);
                base = a.reshape(len);
            }
            set(values);
        }

        void set(double[] values) {
            a.assign(Nd4j.createFromArray(values).castTo(dt).reshape('c', shape));
            initial = read();
            // the view must really alias the buffer we read through
            if (len > 0 && initial[0] != round(dt, values[0])) fail("test setup: the view does not alias its buffer");
        }

        /** Everything in the allocation, through the base buffer. */
        double[] all() { return base.castTo(DataType.DOUBLE).dup().toDoubleVector(); }

        /** The array's elements in row-major order, read through the base buffer. */
        double[] read() { return Arrays.copyOfRange(all(), off, off + len); }

        /** Elements outside the view still hold the sentinel. */
        void assertBordersIntact(String what) {
            double[] all = all();
            for (int i = 0; i < all.length; i++) {
                if (i >= off && i < off + len) continue;
                if (all[i] != SENTINEL) fail(what + ": wrote outside the view: buffer element " + i + " (view is [" + off + ", " + (off + len) + ")) is " + all[i]);
            }
        }

        void assertUnchanged(String what) {
            assertBordersIntact(what);
            double[] now = read();
            for (int i = 0; i < len; i++) {
                if (Double.doubleToLongBits(now[i]) != Double.doubleToLongBits(initial[i])) {
                    fail(what + " (an input) was modified: element " + i + " was " + initial[i] + ", is " + now[i]);
                }
            }
        }

        /** Compares the array's contents with want and checks the borders. */
        void assertClose(String what, double[] want) {
            assertBordersIntact(what);
            KernelsTest.assertClose(what, read(), want, tol(dt), shape);
        }
    }

    private static double round(DataType dt, double v) { return dt == DataType.FLOAT ? (float) v : v; }

    private static double[] round(DataType dt, double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = round(dt, v[i]);
        return r;
    }

    private static double tol(DataType dt) { return dt == DataType.FLOAT ? 1e-5 : 1e-12; }

    /** max|got - want| <= relTol * max(1, max|want|); the message names the worst element. */
    private static void assertClose(String what, double[] got, double[] want, double relTol, long... shape) {
        assertEquals(want.length, got.length, what + ": length");
        double maxRef = 0, worst = -1;
        int wi = 0;
        for (int i = 0; i < want.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(want[i]));
            double d = Math.abs(got[i] - want[i]);
            if (!(d <= worst)) { worst = d; wi = i; }   // NaN counts as worst
        }
        double tol = relTol * Math.max(1, maxRef);
        if (!(worst <= tol)) {
            String where = "[" + wi + "]";
            if (shape != null && shape.length == 2) where += " (row " + wi / shape[1] + ", col " + wi % shape[1] + ")";
            fail(String.format("%s: worst element %s: got %.17g, expected %.17g, |diff| %.3e > tol %.3e (max|ref| %.3e)",
                    what, where, got[wi], want[wi], worst, tol, maxRef));
        }
    }

    /** Random test inputs of one dtype and layout. */
    private static final class Ctx {
        final DataType dt;
        final Layout layout;
        final Random rng;

        Ctx(DataType dt, Layout layout, long seed) { this.dt = dt; this.layout = layout; this.rng = new Random(seed); }

        double[] gauss(int n, double mean, double sd) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = round(dt, mean + sd * rng.nextGaussian());
            return v;
        }

        Buf mat(int rows, int cols, double mean, double sd) { return new Buf(dt, layout, rng, gauss(rows * cols, mean, sd), rows, cols); }

        Buf mat(int rows, int cols) { return mat(rows, cols, 0, 1); }

        Buf vec(double[] v) {
            return layout == Layout.VIEW_ROW_VECTORS ? new Buf(dt, layout, rng, v, 1, v.length) : new Buf(dt, layout, rng, v, v.length);
        }

        Buf vec(int n, double mean, double sd) { return vec(gauss(n, mean, sd)); }

        Buf vec(int n) { return vec(n, 0, 1); }

        /** A 1-D array (flat parameter ranges are 1-D in every layout). */
        Buf flat(double[] v) { return new Buf(dt, layout, rng, v, v.length); }

        Buf of(double[] v, long... shape) { return new Buf(dt, layout, rng, v, shape); }
    }

    private static long seed(Kernels k, DataType dt, Layout l, Size s, int salt) {
        return 1000L * salt + 100L * dt.ordinal() + 10L * l.ordinal() + s.ordinal();
    }

    // ------------------------------------------------------------------ naive references

    /** erf to ~1e-16: 2/sqrt(pi) exp(-z^2) sum_n 2^n z^(2n+1) / (2n+1)!!, all terms positive. */
    static double erf(double x) {
        double z = Math.abs(x);
        if (z > 6.5) return Math.signum(x);
        double z2 = z * z, term = z, sum = z;
        for (int n = 0; n < 2000; n++) {
            term *= 2 * z2 / (2 * n + 3);
            sum += term;
            if (term < 1e-18 * sum) break;
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-z2) * sum;
        return x < 0 ? -r : r;
    }

    static double refGelu(double x) { return 0.5 * x * (1 + erf(x / Math.sqrt(2))); }

    static double refGeluGrad(double x) {
        return 0.5 * (1 + erf(x / Math.sqrt(2))) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    /** LayerNorm forward: out, mean[R], rstd[R]. */
    static double[][] refLayerNorm(double[] x, double[] g, double[] b, double eps, int rows, int f) {
        double[] out = new double[rows * f], mean = new double[rows], rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < f; j++) s += x[r * f + j];
            double mu = s / f, v = 0;
            for (int j = 0; j < f; j++) v += (x[r * f + j] - mu) * (x[r * f + j] - mu);
            double rs = 1 / Math.sqrt(v / f + eps);
            for (int j = 0; j < f; j++) out[r * f + j] = (x[r * f + j] - mu) * rs * g[j] + b[j];
            mean[r] = mu;
            rstd[r] = rs;
        }
        return new double[][] {out, mean, rstd};
    }

    /** attention forward: {out [N*T, W], probs [N*H*T, T]}. */
    static double[][] refAttention(double[] qkv, int n, int t, int heads, int w) {
        int hd = w / heads, w3 = 3 * w;
        double sc = 1 / Math.sqrt(hd);
        double[] out = new double[n * t * w], probs = new double[n * heads * t * t];
        for (int b = 0; b < n; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double d = 0;
                        for (int e = 0; e < hd; e++) d += qkv[(b * t + i) * w3 + h * hd + e] * qkv[(b * t + j) * w3 + w + h * hd + e];
                        s[j] = d * sc;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                    for (int j = 0; j < t; j++) probs[((b * heads + h) * t + i) * t + j] = s[j] / sum;
                    for (int e = 0; e < hd; e++) {
                        double o = 0;
                        for (int j = 0; j < t; j++) o += s[j] / sum * qkv[(b * t + j) * w3 + 2 * w + h * hd + e];
                        out[(b * t + i) * w + h * hd + e] = o;
                    }
                }
            }
        }
        return new double[][] {out, probs};
    }

    /** attention backward from the given probs: dqkv [N*T, 3W]. */
    static double[] refAttentionBackward(double[] dout, double[] qkv, double[] probs, int n, int t, int heads, int w) {
        int hd = w / heads, w3 = 3 * w;
        double sc = 1 / Math.sqrt(hd);
        double[] dqkv = new double[n * t * w3];
        for (int b = 0; b < n; b++) {
            for (int h = 0; h < heads; h++) {
                int pb = (b * heads + h) * t * t;
                double[][] dS = new double[t][t];
                for (int i = 0; i < t; i++) {
                    double[] dP = new double[t];
                    double dot = 0;
                    for (int j = 0; j < t; j++) {
                        for (int e = 0; e < hd; e++) dP[j] += dout[(b * t + i) * w + h * hd + e] * qkv[(b * t + j) * w3 + 2 * w + h * hd + e];
                        dot += probs[pb + i * t + j] * dP[j];
                    }
                    for (int j = 0; j < t; j++) dS[i][j] = probs[pb + i * t + j] * (dP[j] - dot) * sc;
                }
                for (int i = 0; i < t; i++) {
                    for (int e = 0; e < hd; e++) {
                        double dq = 0, dk = 0, dv = 0;
                        for (int j = 0; j < t; j++) {
                            dq += dS[i][j] * qkv[(b * t + j) * w3 + w + h * hd + e];
                            dk += dS[j][i] * qkv[(b * t + j) * w3 + h * hd + e];
                            dv += probs[pb + j * t + i] * dout[(b * t + j) * w + h * hd + e];
                        }
                        dqkv[(b * t + i) * w3 + h * hd + e] = dq;
                        dqkv[(b * t + i) * w3 + w + h * hd + e] = dk;
                        dqkv[(b * t + i) * w3 + 2 * w + h * hd + e] = dv;
                    }
                }
            }
        }
        return dqkv;
    }

    @Test
    void referenceErfIsAccurate() {
        // values from mpmath (50 digits), rounded to double
        double[][] known = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
                {2, 0.9953222650189527}, {3, 0.9999779095030014}, {4.5, 0.9999999998033839}, {-1.5, -0.9661051464753108}};
        for (double[] kv : known) assertEquals(kv[1], erf(kv[0]), 1e-15, "erf(" + kv[0] + ")");
    }

    // ------------------------------------------------------------------ linear algebra and copies

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void gemm(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 1));
        int m = s.r, n = s.f, kk = s.k;
        double[][] ab = {{1, 0}, {0.5, -1.5}, {1, 1}};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (double[] alphaBeta : ab) {
                    double alpha = alphaBeta[0], beta = alphaBeta[1];
                    Buf a = ta ? c.mat(kk, m) : c.mat(m, kk), b = tb ? c.mat(n, kk) : c.mat(kk, n), out = c.mat(m, n);
                    double[] av = a.initial, bv = b.initial, cv = out.initial, want = new double[m * n];
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sum = 0;
                            for (int p = 0; p < kk; p++) sum += (ta ? av[p * m + i] : av[i * kk + p]) * (tb ? bv[j * kk + p] : bv[p * n + j]);
                            want[i * n + j] = alpha * sum + beta * cv[i * n + j];
                        }
                    }
                    k.gemm(a.a, ta, b.a, tb, out.a, alpha, beta);
                    String what = "gemm(transA=" + ta + ", transB=" + tb + ", alpha=" + alpha + ", beta=" + beta + ")";
                    out.assertClose(what, want);
                    a.assertUnchanged(what + " a");
                    b.assertUnchanged(what + " b");
                }
            }
        }
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void addRowVector(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 2));
        Buf y = c.mat(s.r, s.f), bias = c.vec(s.f);
        double[] want = y.initial.clone();
        for (int r = 0; r < s.r; r++) for (int j = 0; j < s.f; j++) want[r * s.f + j] += bias.initial[j];
        k.addRowVector(y.a, bias.a);
        y.assertClose("addRowVector", want);
        bias.assertUnchanged("addRowVector bias");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void sumRowsInto(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 3));
        Buf x = c.mat(s.r, s.f, 0.5, 1), acc = c.vec(s.f);
        double[] want = acc.initial.clone();
        for (int r = 0; r < s.r; r++) for (int j = 0; j < s.f; j++) want[j] += x.initial[r * s.f + j];
        k.sumRowsInto(x.a, acc.a);
        acc.assertClose("sumRowsInto", want);
        x.assertUnchanged("sumRowsInto x");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void copy(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 4));
        Buf src = c.mat(s.r, s.f), dst = c.mat(s.r, s.f);
        k.copy(src.a, dst.a);
        dst.assertClose("copy", src.initial);
        src.assertUnchanged("copy src");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void copyRows(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 5));
        int rs = s.r, rd = s.r / 2 + 3, f = s.f, cnt = 2 * s.r;
        for (boolean accumulate : new boolean[] {false, true}) {
            Buf src = c.mat(rs, f), dst = c.mat(rd, f);
            int[] sr = new int[cnt], dr = new int[cnt];
            for (int i = 0; i < cnt; i++) { sr[i] = c.rng.nextInt(rs); dr[i] = c.rng.nextInt(rd); }   // repeats in both
            dr[cnt - 1] = dr[0];
            double[] want = dst.initial.clone();
            for (int i = 0; i < cnt; i++) {
                for (int j = 0; j < f; j++) {
                    double v = src.initial[sr[i] * f + j];
                    want[dr[i] * f + j] = accumulate ? want[dr[i] * f + j] + v : v;
                }
            }
            k.copyRows(src.a, sr, dst.a, dr, accumulate);
            dst.assertClose("copyRows(accumulate=" + accumulate + ")", want);
            src.assertUnchanged("copyRows src");
        }
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void loadAndZero(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 6));
        Buf dst = c.mat(s.r, s.f);
        double[] src = new double[s.r * s.f];
        for (int i = 0; i < src.length; i++) src[i] = c.rng.nextGaussian() * 3;
        k.load(src, dst.a);
        dst.assertClose("load", round(dt, src));
        k.zero(dst.a);
        dst.assertClose("zero", new double[src.length]);
        Buf v = c.flat(c.gauss(s.f, 0, 1));
        k.zero(v.a);
        v.assertClose("zero (1-D)", new double[s.f]);
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void multiply(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 7));
        Buf a = c.mat(s.r, s.f), b = c.mat(s.r, s.f), out = c.mat(s.r, s.f);
        double[] want = new double[s.r * s.f];
        for (int i = 0; i < want.length; i++) want[i] = a.initial[i] * b.initial[i];
        k.multiply(a.a, b.a, out.a);
        out.assertClose("multiply", want);
        a.assertUnchanged("multiply a");
        b.assertUnchanged("multiply b");
        k.multiply(a.a, b.a, a.a);
        a.assertClose("multiply (out = a)", want);
        b.assertUnchanged("multiply (out = a) b");
    }

    // ------------------------------------------------------------------ GELU

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void gelu(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 8));
        Buf x = c.mat(s.r, s.f, 0, 2.5), out = c.mat(s.r, s.f);
        double[] want = map(x.initial, KernelsTest::refGelu);
        k.gelu(x.a, out.a);
        out.assertClose("gelu", want);
        x.assertUnchanged("gelu x");
        k.gelu(x.a, x.a);
        x.assertClose("gelu (out = x)", want);
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void geluBackward(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 9));
        Buf x = c.mat(s.r, s.f, 0, 2.5), dout = c.mat(s.r, s.f), dx = c.mat(s.r, s.f);
        double[] want = new double[s.r * s.f];
        for (int i = 0; i < want.length; i++) want[i] = dout.initial[i] * refGeluGrad(x.initial[i]);
        k.geluBackward(x.a, dout.a, dx.a);
        dx.assertClose("geluBackward", want);
        x.assertUnchanged("geluBackward x");
        dout.assertUnchanged("geluBackward dout");
        k.geluBackward(x.a, dout.a, dout.a);
        dout.assertClose("geluBackward (dx = dout)", want);
        x.assertUnchanged("geluBackward (dx = dout) x");
    }

    /** Values where exp(-x^2/2) underflows, the sign flips or the erf saturates, in every lane position. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void geluAtExtremeInputs(Kernels k) {
        double[] edge = {-1e4, -100, -20, -13.5, -13, -9, -5, -2, -1e-3, -1e-30, 0, 1e-30, 1e-3, 0.5, 2, 5, 9, 13, 13.5, 20, 100, 1e4};
        int f = 48, rows = 2;   // 3 vectors of 16 per row: each value lands in several lane positions
        float[] h = new float[rows * f], bias = new float[f];
        for (int i = 0; i < h.length; i++) h[i] = (float) edge[(i * 7) % edge.length];
        INDArray x = Nd4j.createFromArray(h).reshape(rows, f), g = x.ulike(), out = x.ulike();
        INDArray dx = x.ulike(), ones = x.ulike().assign(1);
        k.gelu(x, out);
        k.geluBackward(x, ones, dx);
        INDArray hd = x.dup();
        k.biasGeluWithDerivative(hd, Nd4j.createFromArray(bias), g);
        for (int i = 0; i < h.length; i++) {
            double v = h[i], wantG = refGelu(v), wantD = refGeluGrad(v);
            double tolG = 1e-6 * Math.max(1, Math.abs(wantG)), tolD = 1e-6;
            assertEquals(wantG, out.getDouble(i), tolG, "gelu(" + v + ")");
            assertEquals(wantG, g.getDouble(i), tolG, "biasGeluWithDerivative g at " + v);
            assertEquals(wantD, dx.getDouble(i), tolD, "geluBackward at " + v);
            assertEquals(wantD, hd.getDouble(i), tolD, "biasGeluWithDerivative derivative at " + v);
        }
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void biasGeluWithDerivative(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 10));
        Buf h = c.mat(s.r, s.f, 0, 2.5), bias = c.vec(s.f, 0, 0.5), g = c.mat(s.r, s.f);
        double[] wantG = new double[s.r * s.f], wantD = new double[s.r * s.f];
        for (int r = 0; r < s.r; r++) {
            for (int j = 0; j < s.f; j++) {
                double v = round(dt, h.initial[r * s.f + j] + bias.initial[j]);   // h + bias is stored in dt first
                wantG[r * s.f + j] = refGelu(v);
                wantD[r * s.f + j] = refGeluGrad(v);
            }
        }
        k.biasGeluWithDerivative(h.a, bias.a, g.a);
        g.assertClose("biasGeluWithDerivative g", wantG);
        h.assertClose("biasGeluWithDerivative h (derivative)", wantD);
        bias.assertUnchanged("biasGeluWithDerivative bias");
    }

    // ------------------------------------------------------------------ normalisation

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void layerNorm(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 11));
        double eps = 1e-5;
        Buf x = c.mat(s.r, s.f, 3, 2), gamma = c.vec(s.f, 1, 0.3), beta = c.vec(s.f, 0, 0.3);
        Buf out = c.mat(s.r, s.f), mean = c.vec(s.r), rstd = c.vec(s.r);
        double[][] want = refLayerNorm(x.initial, gamma.initial, beta.initial, eps, s.r, s.f);
        k.layerNorm(x.a, gamma.a, beta.a, eps, out.a, mean.a, rstd.a);
        out.assertClose("layerNorm out", want[0]);
        mean.assertClose("layerNorm mean", want[1]);
        rstd.assertClose("layerNorm rstd", want[2]);
        x.assertUnchanged("layerNorm x");
        gamma.assertUnchanged("layerNorm gamma");
        beta.assertUnchanged("layerNorm beta");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void layerNormBackward(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 12));
        int rows = s.r, f = s.f;
        Buf x = c.mat(rows, f, 3, 2), gamma = c.vec(f, 1, 0.3), dout = c.mat(rows, f);
        double[][] fwd = refLayerNorm(x.initial, gamma.initial, new double[f], 1e-5, rows, f);
        Buf mean = c.vec(round(dt, fwd[1])), rstd = c.vec(round(dt, fwd[2]));
        Buf dx = c.mat(rows, f), dgamma = c.vec(f), dbeta = c.vec(f);   // accumulated into: start non-zero
        double[] wantDx = dx.initial.clone(), wantDg = dgamma.initial.clone(), wantDb = dbeta.initial.clone();
        for (int r = 0; r < rows; r++) {
            double mu = mean.initial[r], rs = rstd.initial[r], mD = 0, mDX = 0;
            for (int j = 0; j < f; j++) {
                double xh = (x.initial[r * f + j] - mu) * rs, d = dout.initial[r * f + j];
                mD += d * gamma.initial[j] / f;
                mDX += d * gamma.initial[j] * xh / f;
                wantDg[j] += d * xh;
                wantDb[j] += d;
            }
            for (int j = 0; j < f; j++) {
                double xh = (x.initial[r * f + j] - mu) * rs;
                wantDx[r * f + j] += rs * (dout.initial[r * f + j] * gamma.initial[j] - mD - xh * mDX);
            }
        }
        k.layerNormBackward(dout.a, x.a, mean.a, rstd.a, gamma.a, dx.a, dgamma.a, dbeta.a);
        dx.assertClose("layerNormBackward dx", wantDx);
        dgamma.assertClose("layerNormBackward dgamma", wantDg);
        dbeta.assertClose("layerNormBackward dbeta", wantDb);
        for (Buf in : new Buf[] {dout, x, mean, rstd, gamma}) in.assertUnchanged("layerNormBackward input");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void standardizeRows(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 13));
        double eps = 1e-6;
        Buf x = c.mat(s.r, s.f, 0.4, 0.25), out = c.mat(s.r, s.f);
        double[] want = new double[s.r * s.f];
        for (int r = 0; r < s.r; r++) {
            double mu = 0, v = 0;
            for (int j = 0; j < s.f; j++) mu += x.initial[r * s.f + j] / s.f;
            for (int j = 0; j < s.f; j++) v += (x.initial[r * s.f + j] - mu) * (x.initial[r * s.f + j] - mu);
            double sd = Math.sqrt(v / (s.f - 1) + eps);
            for (int j = 0; j < s.f; j++) want[r * s.f + j] = (x.initial[r * s.f + j] - mu) / sd;
        }
        k.standardizeRows(x.a, eps, out.a);
        out.assertClose("standardizeRows", want);
        x.assertUnchanged("standardizeRows x");
    }

    // ------------------------------------------------------------------ attention

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void attention(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 14));
        int rows = s.n * s.t;
        Buf qkv = c.mat(rows, 3 * s.w, 0, 1.5), out = c.mat(rows, s.w), probs = c.mat(s.n * s.heads * s.t, s.t);
        double[][] want = refAttention(qkv.initial, s.n, s.t, s.heads, s.w);
        k.attention(qkv.a, s.n, s.t, s.heads, out.a, probs.a);
        out.assertClose("attention out", want[0]);
        probs.assertClose("attention probs", want[1]);
        qkv.assertUnchanged("attention qkv");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void attentionBackward(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 15));
        int rows = s.n * s.t;
        Buf qkv = c.mat(rows, 3 * s.w, 0, 1.5), dout = c.mat(rows, s.w);
        Buf probs = c.of(round(dt, refAttention(qkv.initial, s.n, s.t, s.heads, s.w)[1]), s.n * s.heads * s.t, s.t);
        Buf dqkv = c.mat(rows, 3 * s.w);   // garbage: must be overwritten
        double[] want = refAttentionBackward(dout.initial, qkv.initial, probs.initial, s.n, s.t, s.heads, s.w);
        k.attentionBackward(dout.a, qkv.a, probs.a, s.n, s.t, s.heads, dqkv.a);
        dqkv.assertClose("attentionBackward dqkv", want);
        for (Buf in : new Buf[] {dout, qkv, probs}) in.assertUnchanged("attentionBackward input");
    }

    // ------------------------------------------------------------------ loss, optimizer, patches

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void weightedRowMse(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 16));
        int rows = s.r, f = s.f;
        double[] wv = new double[rows];
        for (int r = 0; r < rows; r++) wv[r] = r % 3 == 0 ? 0 : round(dt, c.rng.nextDouble() / rows);
        Buf pred = c.mat(rows, f), target = c.mat(rows, f, 0.2, 1), w = c.vec(wv), dpred = c.mat(rows, f);
        double loss = 0;
        double[] want = new double[rows * f];
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int j = 0; j < f; j++) {
                double d = pred.initial[r * f + j] - target.initial[r * f + j];
                sq += d * d;
                want[r * f + j] = 2 * w.initial[r] * d / f;
            }
            loss += w.initial[r] * sq / f;
        }
        double got = k.weightedRowMse(pred.a, target.a, w.a, dpred.a);
        assertClose("weightedRowMse loss", new double[] {got}, new double[] {loss}, tol(dt));
        dpred.assertClose("weightedRowMse dpred", want);
        for (Buf in : new Buf[] {pred, target, w}) in.assertUnchanged("weightedRowMse input");
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void adamw(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 17));
        int n = s.r * s.f + 3;
        for (double wd : new double[] {0, 0.05}) {
            double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8, bc1 = 1 - Math.pow(b1, 3), bc2 = 1 - Math.pow(b2, 3);
            double[] vv = c.gauss(n, 0, 0.1);
            for (int i = 0; i < n; i++) vv[i] = round(dt, vv[i] * vv[i] + 1e-4);
            Buf p = c.flat(c.gauss(n, 0, 1)), g = c.flat(c.gauss(n, 0, 0.1)), m = c.flat(c.gauss(n, 0, 0.05)), v = c.flat(vv);
            double[] wp = new double[n], wm = new double[n], wv = new double[n];
            for (int i = 0; i < n; i++) {
                double gi = g.initial[i];
                wm[i] = b1 * m.initial[i] + (1 - b1) * gi;
                wv[i] = b2 * v.initial[i] + (1 - b2) * gi * gi;
                wp[i] = p.initial[i] * (1 - lr * wd) - lr / bc1 * wm[i] / (Math.sqrt(wv[i]) / Math.sqrt(bc2) + eps);
            }
            k.adamw(p.a, g.a, m.a, v.a, lr, wd, b1, b2, eps, bc1, bc2);
            p.assertClose("adamw p (wd=" + wd + ")", wp);
            m.assertClose("adamw m (wd=" + wd + ")", wm);
            v.assertClose("adamw v (wd=" + wd + ")", wv);
            g.assertUnchanged("adamw g");
        }
    }

    @ParameterizedTest(name = NAME)
    @MethodSource("cases")
    void patchify(Kernels k, DataType dt, Layout layout, Size s) {
        Ctx c = new Ctx(dt, layout, seed(k, dt, layout, s, 18));
        int n = 2, ch = 3, p = s.p, side = s.side, g = side / p, pd = p * p * ch;
        Buf images = c.of(c.gauss(n * ch * side * side, 0, 1), n, ch, side, side);
        for (boolean channelsFirst : new boolean[] {false, true}) {
            Buf out = c.mat(n * g * g, pd);
            double[] want = new double[n * g * g * pd];
            for (int b = 0; b < n; b++)
                for (int r = 0; r < g; r++)
                    for (int q = 0; q < g; q++)
                        for (int cc = 0; cc < ch; cc++)
                            for (int i = 0; i < p; i++)
                                for (int j = 0; j < p; j++) {
                                    int col = channelsFirst ? (cc * p + i) * p + j : (i * p + j) * ch + cc;
                                    want[((b * g + r) * g + q) * pd + col] = images.initial[((b * ch + cc) * side + r * p + i) * side + q * p + j];
                                }
            k.patchify(images.a, p, out.a, channelsFirst);
            out.assertClose("patchify(channelsFirst=" + channelsFirst + ")", want);
            images.assertUnchanged("patchify images");
        }
    }

    // ------------------------------------------------------------------ finite differences (double)

    private static final double FD_H = 1e-6, FD_TOL = 1e-6;

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Central differences of loss() w.r.t. every element of b (perturbed in place through its base buffer). */
    private static double[] numericGrad(Buf b, java.util.function.DoubleSupplier loss) {
        double[] gr = new double[b.len];
        for (int i = 0; i < b.len; i++) {
            double orig = b.base.getDouble(b.off + i);
            b.base.putScalar(b.off + i, orig + FD_H);
            double up = loss.getAsDouble();
            b.base.putScalar(b.off + i, orig - FD_H);
            double down = loss.getAsDouble();
            b.base.putScalar(b.off + i, orig);
            gr[i] = (up - down) / (2 * FD_H);
        }
        return gr;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("doubleCases")
    void layerNormBackwardMatchesFiniteDifferences(Kernels k, Layout layout) {
        Ctx c = new Ctx(DataType.DOUBLE, layout, 101);
        int rows = 7, f = 13;
        double eps = 1e-5;
        Buf x = c.mat(rows, f, 1, 2), gamma = c.vec(f, 1, 0.3), beta = c.vec(f, 0, 0.3), gOut = c.mat(rows, f);
        Buf out = c.mat(rows, f), mean = c.vec(rows), rstd = c.vec(rows);
        java.util.function.DoubleSupplier loss = () -> {
            k.layerNorm(x.a, gamma.a, beta.a, eps, out.a, mean.a, rstd.a);
            return dot(out.read(), gOut.initial);
        };
        loss.getAsDouble();
        Buf dx = c.of(new double[rows * f], rows, f), dgamma = c.vec(new double[f]), dbeta = c.vec(new double[f]);
        k.layerNormBackward(gOut.a, x.a, mean.a, rstd.a, gamma.a, dx.a, dgamma.a, dbeta.a);
        assertClose("layerNormBackward dx vs finite differences", dx.read(), numericGrad(x, loss), FD_TOL, rows, f);
        assertClose("layerNormBackward dgamma vs finite differences", dgamma.read(), numericGrad(gamma, loss), FD_TOL);
        assertClose("layerNormBackward dbeta vs finite differences", dbeta.read(), numericGrad(beta, loss), FD_TOL);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("doubleCases")
    void geluBackwardMatchesFiniteDifferences(Kernels k, Layout layout) {
        Ctx c = new Ctx(DataType.DOUBLE, layout, 102);
        int rows = 7, f = 13;
        Buf x = c.mat(rows, f, 0, 2.5), gOut = c.mat(rows, f), out = c.mat(rows, f);
        java.util.function.DoubleSupplier loss = () -> {
            k.gelu(x.a, out.a);
            return dot(out.read(), gOut.initial);
        };
        Buf dx = c.mat(rows, f);
        k.geluBackward(x.a, gOut.a, dx.a);
        assertClose("geluBackward vs finite differences", dx.read(), numericGrad(x, loss), FD_TOL, rows, f);
        // the fused form's derivative too
        Buf h = c.of(x.initial, rows, f), bias = c.vec(new double[f]), g = c.mat(rows, f);
        k.biasGeluWithDerivative(h.a, bias.a, g.a);
        double[] fused = h.read();
        for (int i = 0; i < fused.length; i++) fused[i] *= gOut.initial[i];
        assertClose("biasGeluWithDerivative derivative vs finite differences", fused, numericGrad(x, loss), FD_TOL, rows, f);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("doubleCases")
    void attentionBackwardMatchesFiniteDifferences(Kernels k, Layout layout) {
        Ctx c = new Ctx(DataType.DOUBLE, layout, 103);
        int n = 2, t = 5, heads = 2, w = 6, rows = n * t;
        Buf qkv = c.mat(rows, 3 * w, 0, 1.5), gOut = c.mat(rows, w), out = c.mat(rows, w), probs = c.mat(n * heads * t, t);
        java.util.function.DoubleSupplier loss = () -> {
            k.attention(qkv.a, n, t, heads, out.a, probs.a);
            return dot(out.read(), gOut.initial);
        };
        loss.getAsDouble();
        Buf dqkv = c.mat(rows, 3 * w);
        k.attentionBackward(gOut.a, qkv.a, probs.a, n, t, heads, dqkv.a);
        assertClose("attentionBackward vs finite differences", dqkv.read(), numericGrad(qkv, loss), FD_TOL, rows, 3 * w);
    }

    // ------------------------------------------------------------------ dtype contract of the float-only path

    @Test
    void floatOnlyImplementationsRejectDouble() {
        implementations().filter(KernelsTest::floatOnly).forEach(k -> {
            INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4), y = Nd4j.create(DataType.DOUBLE, 3, 4);
            assertThrows(IllegalArgumentException.class, () -> k.gelu(x, y), label(k) + " gelu on DOUBLE");
            assertThrows(IllegalArgumentException.class, () -> k.copy(x, y), label(k) + " copy on DOUBLE");
            assertThrows(IllegalArgumentException.class, () -> k.gemm(x, false, x, true, Nd4j.create(DataType.DOUBLE, 3, 3), 1, 0), label(k) + " gemm on DOUBLE");
        });
    }

    private static double[] map(double[] v, DoubleUnaryOperator f) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = f.applyAsDouble(v[i]);
        return r;
    }
}
