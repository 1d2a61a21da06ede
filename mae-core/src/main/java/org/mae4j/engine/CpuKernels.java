package org.mae4j.engine;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The CPU fast path (float32 only): matrix products go straight to OpenBLAS's {@code cblas_sgemm} on the
 * arrays' own off-heap memory (no copies, ~1 us per call instead of ~25 us through {@code Nd4j.gemm}) or to
 * the Java AVX-512 kernel {@link VectorGemm}, whichever is faster on the machine ({@link GemmPath}), and
 * the element-wise, normalisation and attention work is Java loops over the same memory, split over a
 * fork-join pool. Small ND4J ops cost far more in call overhead than they compute at these sizes.
 *
 * <p>Must agree with {@link Nd4jKernels} within float rounding; KernelsTest checks both against naive loops.
 */
public final class CpuKernels implements Kernels {

    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    private final ForkJoinPool pool;
    private final int threads;
    private final boolean vector;
    private final GemmChoice gemmChoice;
    private final Map<GemmChoice.Shape, GemmChoice.Decision> issued = new ConcurrentHashMap<>();   // every shape this instance has run, and its path
    private final ThreadLocal<Object> gemmPacks = new ThreadLocal<>();   // VectorGemm.Packs, typed Object so this class loads without the Vector API

    /** Who computes the matrix products. */
    public enum GemmPath {
        /** Per product shape, whichever is faster on this machine, measured once and cached; overridable (see {@link GemmChoice}). */
        AUTO,
        /** The Java AVX-512 kernel ({@link VectorGemm}); needs the Vector API. */
        JAVA,
        /** OpenBLAS's cblas_sgemm. */
        BLAS
    }

    /** One worker per available processor; Vector API loops when the JVM has jdk.incubator.vector; gemm path AUTO. */
    public CpuKernels() { this(Runtime.getRuntime().availableProcessors(), VectorSupport.available()); }

    /** As {@link #CpuKernels(int, boolean, GemmPath)} with {@link GemmPath#AUTO}. */
    public CpuKernels(int threads, boolean vectorApi) { this(threads, vectorApi, GemmPath.AUTO); }

    /**
     * @param threads   workers for the Java loops (OpenBLAS keeps its own threads for the products)
     * @param vectorApi use the Vector API loops; needs {@code --add-modules jdk.incubator.vector}
     * @param gemm      who computes matrix products; AUTO considers the Java kernel only with the Vector API and
     *                  512-bit vectors, and follows MAE4J_GEMM / -Dmae4j.gemm / --gemm when set ({@link GemmChoice})
     */
    public CpuKernels(int threads, boolean vectorApi, GemmPath gemm) {
        this(threads, vectorApi, GemmChoice.forKernels(gemm, check(threads, vectorApi, gemm)));
    }

    /** With a given choice of gemm paths (tests inject one over a temporary cache and fake measurements). */
    CpuKernels(int threads, boolean vectorApi, GemmChoice choice) {
        check(threads, vectorApi, choice.fixedTo(GemmChoice.GemmPathName.OPENBLAS) ? GemmPath.BLAS : GemmPath.JAVA);
        this.threads = threads;
        this.vector = vectorApi;
        this.gemmChoice = choice;
        this.pool = new ForkJoinPool(threads);
    }

    private static boolean check(int threads, boolean vectorApi, GemmPath gemm) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (vectorApi && !VectorSupport.available()) {
            throw new IllegalStateException("the Vector API is not available: start the JVM with --add-modules jdk.incubator.vector");
        }
        if (gemm == GemmPath.JAVA && !vectorApi) throw new IllegalArgumentException("the Java gemm path needs the Vector API (vectorApi = true)");
        return vectorApi;
    }

    /** Ends the worker threads (for short-lived instances; this instance is unusable after). */
    void shutdown() { pool.shutdown(); }

    /** True when every matrix product uses the Java AVX-512 kernel (a fixed choice; AUTO decides per shape). */
    public boolean usesJavaGemm() { return gemmChoice.fixedTo(GemmChoice.GemmPathName.JAVA); }

    /** How this instance's products are routed, before any has run: e.g. "openblas (MAE4J_GEMM=openblas)". */
    public String gemmMode() { return gemmChoice.mode(); }

    /** The paths of the products run so far in one line, e.g. "openblas (auto, 18 products: 18 cached)"; see {@link GemmChoice#describe}. */
    public String gemmSummary() { return GemmChoice.summary(gemmChoice, issued); }

    /** Shape key (e.g. "M2048 N576 K192 NT") -> "java" or "openblas" for every product run so far, sorted by key. */
    public Map<String, String> gemmPaths() { return GemmChoice.paths(issued); }

    /** True when the Vector API loops are in use. */
    public boolean usesVectorApi() { return vector; }

    /**
     * What runs the arithmetic, for provenance records and logs: e.g. {@code "CpuKernels (2 threads, Vector API on,
     * gemm: openblas (MAE4J_GEMM=openblas))"}; the gemm part is {@link #gemmMode()}, known before any product.
     */
    @Override
    public String toString() {
        return "CpuKernels (" + threads + (threads == 1 ? " thread" : " threads") + ", Vector API " + (vector ? "on" : "off") + ", gemm: " + gemmMode() + ")";
    }

    // ------------------------------------------------------------------ memory access

    /** A buffer over exactly the array's elements (index 0 = the array's first element). */
    static FloatBuffer buf(INDArray a) {
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("CpuKernels works on FLOAT arrays, got " + a.dataType()
                    + " (use Nd4jKernels for other dtypes)");
        }
        if (!isRowMajorContiguous(a)) {
            throw new IllegalArgumentException("CpuKernels needs contiguous row-major arrays, got shape "
                    + java.util.Arrays.toString(a.shape()) + " strides " + java.util.Arrays.toString(a.stride()));
        }
        long n = a.length();
        FloatPointer p = new FloatPointer(a.data().addressPointer());
        p.capacity(n).limit(n);
        return p.asBuffer();
    }

    /** Strides of a dense row-major layout (dims of size 1 may have any stride). */
    static boolean isRowMajorContiguous(INDArray a) {
        long[] shape = a.shape(), stride = a.stride();
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    private static FloatPointer ptr(INDArray a) {
        buf(a); // validates dtype and layout
        return new FloatPointer(a.data().addressPointer());
    }

    private static int rows(INDArray a) { return a.rank() == 1 ? 1 : (int) (a.length() / a.size(-1)); }
    private static int cols(INDArray a) { return (int) a.size(-1); }

    /** Runs body over [0, n) split into chunks on the pool (inline when small). */
    private void parallelFor(int n, int minChunk, RangeBody body) {
        if (n <= minChunk || threads == 1) { body.run(0, n); return; }
        int chunks = Math.min(threads * 4, (n + minChunk - 1) / minChunk);
        pool.invoke(new Chunk(body, n, 0, chunks, chunks));
    }

    @FunctionalInterface
    private interface RangeBody { void run(int from, int to); }

    /** Runs body(0 .. chunks-1), one task each, on the pool. */
    private void parallelChunks(int chunks, java.util.function.IntConsumer body) {
        if (chunks <= 1) { body.accept(0); return; }
        parallelFor(chunks, 1, (c0, c1) -> { for (int c = c0; c < c1; c++) body.accept(c); });
    }

    private static final class Chunk extends RecursiveAction {
        private final RangeBody body; private final int n, lo, hi, total;
        Chunk(RangeBody body, int n, int lo, int hi, int total) { this.body = body; this.n = n; this.lo = lo; this.hi = hi; this.total = total; }
        @Override protected void compute() {
            if (hi - lo == 1) { body.run((int) ((long) n * lo / total), (int) ((long) n * hi / total)); return; }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunk(body, n, lo, mid, total), new Chunk(body, n, mid, hi, total));
        }
    }

    // ------------------------------------------------------------------ linear algebra

    @Override
    public void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        int m = rows(c), n = cols(c);
        int k = transA ? rows(a) : cols(a);
        int am = transA ? cols(a) : rows(a), bk = transB ? cols(b) : rows(b), bn = transB ? rows(b) : cols(b);
        if (am != m || bk != k || bn != n) {
            throw new IllegalArgumentException("gemm shapes: op(a) [" + am + "," + k + "] x op(b) [" + bk + "," + bn
                    + "] -> c [" + m + "," + n + "]");
        }
        gemmOn(onJava(new GemmChoice.Shape(m, n, k, transA, transB)), a, transA, b, transB, c, alpha, beta);
    }

    private void gemmOn(boolean java, INDArray a, boolean transA, INDArray b, boolean transB, INDArray c) {
        gemmOn(java, a, transA, b, transB, c, 1, 0);
    }

    @Override
    public void linear(INDArray x, INDArray w, INDArray y, double beta, INDArray bias) {
        int m = rows(y), n = cols(y), k = cols(x);
        if (rows(x) != m || cols(w) != k || rows(w) != n) {
            throw new IllegalArgumentException("linear shapes: x [" + rows(x) + "," + k + "] w [" + rows(w) + "," + cols(w) + "] -> y [" + m + "," + n + "]");
        }
        if (!onJava(new GemmChoice.Shape(m, n, k, false, true))) {
            gemmOn(false, x, false, w, true, y, 1, beta);
            addRowVector(y, bias);
            return;
        }
        // the bias goes in with the product's last store of each tile: one pass over y fewer
        javaGemm(x, false, w, true, y, 1, beta, floats(bias, n), null);
    }

    /** Whether this shape's products run on the Java kernel: decided (measured or read from the cache) at its first product, then remembered. */
    private boolean onJava(GemmChoice.Shape shape) {
        GemmChoice.Decision d = issued.get(shape);
        if (d == null) {
            d = gemmChoice.decide(shape, this::gemmOn);
            issued.putIfAbsent(shape, d);
        }
        return d.path() == GemmChoice.GemmPathName.JAVA;
    }

    /** The product on one path; shapes already checked. */
    private void gemmOn(boolean java, INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        int m = rows(c), n = cols(c);
        int k = transA ? rows(a) : cols(a);
        if (java) {
            javaGemm(a, transA, b, transB, c, alpha, beta, null, null);
            return;
        }
        openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, (float) alpha,
                ptr(a), cols(a), ptr(b), cols(b), (float) beta, ptr(c), n);
    }

    @Override
    public void gemmTimes(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, INDArray mul) {
        int m = rows(c), n = cols(c);
        int k = transA ? rows(a) : cols(a);
        int am = transA ? cols(a) : rows(a), bk = transB ? cols(b) : rows(b), bn = transB ? rows(b) : cols(b);
        if (am != m || bk != k || bn != n || mul.length() != c.length()) {
            throw new IllegalArgumentException("gemmTimes shapes: op(a) [" + am + "," + k + "] x op(b) [" + bk + "," + bn
                    + "] -> c [" + m + "," + n + "], multiplier of " + mul.length() + " values");
        }
        if (!onJava(new GemmChoice.Shape(m, n, k, transA, transB))) {
            gemmOn(false, a, transA, b, transB, c, 1, 0);
            multiply(c, mul, c);
            return;
        }
        // the multiplier is applied in the product's last store of each tile: one pass over c fewer
        javaGemm(a, transA, b, transB, c, 1, 0, null, buf(mul));
    }

    /** The product on the Java kernel, plus bias [n] on every row of c when bias is not null, then times mul when not null. */
    private void javaGemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta, float[] bias, FloatBuffer mul) {
        int m = rows(c), n = cols(c);
        int k = transA ? rows(a) : cols(a);
        {
            FloatBuffer ab = buf(a), bb = buf(b);
            FloatBuffer cb = buf(c);
            int panels = (m + VectorGemm.MR - 1) / VectorGemm.MR;
            // one chunk of rows per thread: each chunk packs B itself, so fewer chunks means less packing
            int chunks = (double) m * n * k < 2e6 ? 1 : Math.min(threads, panels);
            parallelChunks(chunks, ch -> {
                int p0 = (int) ((long) panels * ch / chunks), p1 = (int) ((long) panels * (ch + 1) / chunks);
                VectorGemm.Packs packs = (VectorGemm.Packs) gemmPacks.get();
                if (packs == null) { packs = new VectorGemm.Packs(); gemmPacks.set(packs); }
                VectorGemm.gemmRows(ab, cols(a), transA, bb, cols(b), transB, cb, n, p0 * VectorGemm.MR,
                        Math.min(m, p1 * VectorGemm.MR), n, k, (float) alpha, (float) beta, bias, mul, packs);
            });
        }
    }

    @Override
    public void addRowVector(INDArray y, INDArray bias) {
        int f = cols(y);
        float[] b = floats(bias, f);
        if (vector) {
            FloatBuffer yb = buf(y);
            parallelFor(rows(y), 256, (r0, r1) -> VectorLoops.addRowVector(yb, b, f, r0, r1));
            return;
        }
        FloatBuffer yb = buf(y);
        parallelFor(rows(y), 256, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * f;
                for (int j = 0; j < f; j++) yb.put(o + j, yb.get(o + j) + b[j]);
            }
        });
    }

    @Override
    public void sumRowsInto(INDArray x, INDArray acc) {
        int f = cols(x), r = rows(x);
        if (cols(acc) != f || acc.length() != f) throw new IllegalArgumentException("sumRowsInto: acc has " + acc.length() + " values, rows have " + f);
        // Each chunk of rows sums into its own partial (float lanes), the partials are added in double.
        int chunks = Math.max(1, Math.min(threads * 4, r / 256));
        float[][] part = new float[chunks][f];
        if (vector) {
            FloatBuffer xb = buf(x);
            parallelFor(chunks, 1, (c0, c1) -> {
                for (int c = c0; c < c1; c++) VectorLoops.sumRows(xb, f, (int) ((long) r * c / chunks), (int) ((long) r * (c + 1) / chunks), part[c]);
            });
        } else {
            FloatBuffer xb = buf(x);
            parallelFor(chunks, 1, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    float[] s = part[c];
                    for (int i = (int) ((long) r * c / chunks), end = (int) ((long) r * (c + 1) / chunks); i < end; i++) {
                        int o = i * f;
                        for (int j = 0; j < f; j++) s[j] += xb.get(o + j);
                    }
                }
            });
        }
        FloatBuffer ab = buf(acc);
        for (int j = 0; j < f; j++) {
            double t = 0;
            for (float[] s : part) t += s[j];
            ab.put(j, (float) (ab.get(j) + t));
        }
    }

    /** A small vector (bias, gamma) copied to the heap, checked to have n values. */
    private static float[] floats(INDArray v, int n) {
        if (v.length() != n) throw new IllegalArgumentException("expected a vector of " + n + " values, got shape " + java.util.Arrays.toString(v.shape()));
        float[] a = new float[n];
        buf(v).get(0, a);
        return a;
    }

    @Override
    public void copy(INDArray src, INDArray dst) {
        if (src.length() != dst.length()) throw new IllegalArgumentException("copy: lengths " + src.length() + " vs " + dst.length());
        FloatBuffer s = buf(src), d = buf(dst);
        d.put(0, s, 0, (int) src.length());
    }

    @Override
    public void copyRows(INDArray src, int[] srcRows, INDArray dst, int[] dstRows, boolean accumulate) {
        if (srcRows.length != dstRows.length) throw new IllegalArgumentException("copyRows: " + srcRows.length + " source rows vs " + dstRows.length + " destination rows");
        int f = cols(src);
        if (cols(dst) != f) throw new IllegalArgumentException("copyRows: row widths " + f + " vs " + cols(dst));
        FloatBuffer s = buf(src), d = buf(dst);
        int rs = rows(src), rd = rows(dst);
        for (int i = 0; i < srcRows.length; i++) {
            int a = srcRows[i], b = dstRows[i];
            if (a < 0 || a >= rs || b < 0 || b >= rd) throw new IndexOutOfBoundsException("copyRows: row " + a + " of " + rs + " -> row " + b + " of " + rd);
            if (accumulate) {
                for (int j = 0; j < f; j++) d.put(b * f + j, d.get(b * f + j) + s.get(a * f + j));
            } else {
                d.put(b * f, s, a * f, f);
            }
        }
    }

    @Override
    public void scaleRowGroups(INDArray src, float[] scale, INDArray dst, boolean accumulate) {
        int n = (int) src.length();
        if (dst.length() != n) throw new IllegalArgumentException("scaleRowGroups: lengths " + n + " vs " + dst.length());
        if (scale.length == 0 || n % scale.length != 0) throw new IllegalArgumentException("scaleRowGroups: " + n + " values do not split into " + scale.length + " groups");
        int per = n / scale.length;
        FloatBuffer s = buf(src), d = buf(dst);
        parallelFor(n, 1 << 15, (i0, i1) -> {
            for (int g = i0 / per, i = i0; i < i1; g++) {   // group by group, so the scale is loop-invariant
                float c = scale[g];
                int end = Math.min(i1, (g + 1) * per);
                if (accumulate) for (; i < end; i++) d.put(i, d.get(i) + c * s.get(i));
                else for (; i < end; i++) d.put(i, c * s.get(i));
            }
        });
    }

    @Override
    public double sumOfSquares(INDArray x) {
        int n = (int) x.length();
        FloatBuffer b = buf(x);
        int chunks = Math.max(1, Math.min(threads * 4, n >> 15));
        double[] partial = new double[chunks];
        parallelChunks(chunks, c -> {
            double acc = 0;
            for (int i = (int) ((long) n * c / chunks), end = (int) ((long) n * (c + 1) / chunks); i < end; i++) {
                double v = b.get(i);
                acc += v * v;
            }
            partial[c] = acc;
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    @Override
    public void load(double[] src, INDArray dst) {
        if (src.length != dst.length()) throw new IllegalArgumentException("load: " + src.length + " values into an array of " + dst.length());
        FloatBuffer d = buf(dst);
        for (int i = 0; i < src.length; i++) d.put(i, (float) src[i]);
    }

    @Override
    public void patchify(INDArray images, int p, INDArray out, boolean channelsFirst) {
        int n = (int) images.size(0), c = (int) images.size(1), s = (int) images.size(2), g = s / p, pd = p * p * c;
        if (out.length() != (long) n * g * g * pd) throw new IllegalArgumentException("patchify: output has " + out.length() + " values, expected " + (long) n * g * g * pd);
        FloatBuffer ib = buf(images), ob = buf(out);
        parallelFor(n, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int r = 0; r < g; r++) {
                    for (int q = 0; q < g; q++) {
                        int row = ((b * g + r) * g + q) * pd;
                        for (int ch = 0; ch < c; ch++) {
                            for (int i = 0; i < p; i++) {
                                int src = ((b * c + ch) * s + r * p + i) * s + q * p;
                                for (int j = 0; j < p; j++) {
                                    int dst = channelsFirst ? (ch * p + i) * p + j : (i * p + j) * c + ch;
                                    ob.put(row + dst, ib.get(src + j));
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    @Override
    public void zero(INDArray x) {
        FloatBuffer b = buf(x);
        int n = (int) x.length();
        parallelFor(n, 1 << 16, (i0, i1) -> { for (int i = i0; i < i1; i++) b.put(i, 0f); });
    }

    // ------------------------------------------------------------------ normalisation

    @Override
    public void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray out, INDArray mean, INDArray rstd) {
        int f = cols(x);
        float[] g = floats(gamma, f), be = floats(beta, f);
        if (vector) {
            FloatBuffer xb = buf(x), ob = buf(out), mb = buf(mean), rb = buf(rstd);
            parallelFor(rows(x), 64, (r0, r1) -> VectorLoops.layerNorm(xb, g, be, (float) eps, ob, mb, rb, f, r0, r1));
            return;
        }
        FloatBuffer xb = buf(x), ob = buf(out), mb = buf(mean), rb = buf(rstd);
        parallelFor(rows(x), 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * f;
                double s = 0;
                for (int j = 0; j < f; j++) s += xb.get(o + j);
                float mu = (float) (s / f);
                double v = 0;
                for (int j = 0; j < f; j++) { float d = xb.get(o + j) - mu; v += d * d; }
                float rs = (float) (1.0 / Math.sqrt(v / f + eps));
                for (int j = 0; j < f; j++) ob.put(o + j, (xb.get(o + j) - mu) * rs * g[j] + be[j]);
                mb.put(r, mu);
                rb.put(r, rs);
            }
        });
    }

    @Override
    public void layerNormBackward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray gamma,
                                  INDArray dx, INDArray dgamma, INDArray dbeta) {
        int f = cols(x), rowsN = rows(x);
        float[] g = floats(gamma, f);
        // gamma/beta gradients are reductions over rows: each chunk sums its own, then they are added up.
        int chunks = Math.max(1, Math.min(threads * 4, rowsN / 64));
        float[][] dg = new float[chunks][f], dbt = new float[chunks][f];
        if (vector) {
            FloatBuffer db = buf(dout), xb = buf(x), mb = buf(mean), rb = buf(rstd), dxb = buf(dx);
            parallelFor(chunks, 1, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    VectorLoops.layerNormBackward(db, xb, mb, rb, g, dxb, dg[c], dbt[c], f,
                            (int) ((long) rowsN * c / chunks), (int) ((long) rowsN * (c + 1) / chunks));
                }
            });
        } else {
            FloatBuffer db = buf(dout), xb = buf(x), mb = buf(mean), rb = buf(rstd), dxb = buf(dx);
            parallelFor(chunks, 1, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    int r0 = (int) ((long) rowsN * c / chunks), r1 = (int) ((long) rowsN * (c + 1) / chunks);
                    float[] dgc = dg[c], dbc = dbt[c];
                    for (int r = r0; r < r1; r++) {
                        int o = r * f;
                        float mu = mb.get(r), rs = rb.get(r);
                        double sumD = 0, sumDX = 0;
                        for (int j = 0; j < f; j++) {
                            float xh = (xb.get(o + j) - mu) * rs;
                            float d = db.get(o + j);
                            float dxh = d * g[j];
                            sumD += dxh;
                            sumDX += dxh * xh;
                            dgc[j] += d * xh;
                            dbc[j] += d;
                        }
                        float mD = (float) (sumD / f), mDX = (float) (sumDX / f);
                        for (int j = 0; j < f; j++) {
                            float xh = (xb.get(o + j) - mu) * rs;
                            float dxh = db.get(o + j) * g[j];
                            dxb.put(o + j, dxb.get(o + j) + rs * (dxh - mD - xh * mDX));
                        }
                    }
                }
            });
        }
        FloatBuffer dgb = buf(dgamma), dbb = buf(dbeta);
        for (int j = 0; j < f; j++) {
            double a = 0, b = 0;
            for (int c = 0; c < chunks; c++) { a += dg[c][j]; b += dbt[c][j]; }
            dgb.put(j, (float) (dgb.get(j) + a));
            dbb.put(j, (float) (dbb.get(j) + b));
        }
    }

    @Override
    public void standardizeRows(INDArray x, double eps, INDArray out) {
        FloatBuffer xb = buf(x), ob = buf(out);
        int f = cols(x);
        if (f < 2) throw new IllegalArgumentException("standardizeRows needs rows of at least 2 values (unbiased variance), got " + f);
        parallelFor(rows(x), 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * f;
                double s = 0;
                for (int j = 0; j < f; j++) s += xb.get(o + j);
                float mu = (float) (s / f);
                double v = 0;
                for (int j = 0; j < f; j++) { float d = xb.get(o + j) - mu; v += d * d; }
                float rs = (float) (1.0 / Math.sqrt(v / (f - 1) + eps));
                for (int j = 0; j < f; j++) ob.put(o + j, (xb.get(o + j) - mu) * rs);
            }
        });
    }

    // ------------------------------------------------------------------ GELU

    @Override
    public void gelu(INDArray x, INDArray out) { biasGeluImpl(x, null, out, false); }

    @Override
    public void biasGeluWithDerivative(INDArray h, INDArray bias, INDArray g) { biasGeluImpl(h, floats(bias, cols(h)), g, true); }

    /** out = gelu(x + bias); with keepDerivative x is overwritten by gelu'(x + bias), else x is left alone. */
    private void biasGeluImpl(INDArray x, float[] bias, INDArray out, boolean keepDerivative) {
        if (x.length() != out.length()) throw new IllegalArgumentException("gelu: lengths " + x.length() + " vs " + out.length());
        int n = (int) x.length();
        int f = bias == null ? 1 : cols(x);
        if (vector) {
            FloatBuffer xb = buf(x), ob = buf(out);
            parallelFor(n / f, Math.max(1, 4096 / f), (r0, r1) -> VectorLoops.biasGelu(xb, bias, f, ob, keepDerivative, r0 * f, r1 * f));
            return;
        }
        FloatBuffer xb = buf(x), ob = buf(out);
        parallelFor(n, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double v = xb.get(i) + (bias == null ? 0 : bias[i % f]);
                double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
                ob.put(i, (float) (v * cdf));
                if (keepDerivative) xb.put(i, (float) (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v)));
            }
        });
    }

    @Override
    public void multiply(INDArray a, INDArray b, INDArray out) {
        int n = (int) a.length();
        if (b.length() != n || out.length() != n) throw new IllegalArgumentException("multiply: lengths " + n + ", " + b.length() + ", " + out.length());
        if (vector) {
            FloatBuffer ab = buf(a), bb = buf(b), ob = buf(out);
            parallelFor(n, 1 << 15, (i0, i1) -> VectorLoops.multiply(ab, bb, ob, i0, i1));
            return;
        }
        FloatBuffer ab = buf(a), bb = buf(b), ob = buf(out);
        parallelFor(n, 1 << 15, (i0, i1) -> { for (int i = i0; i < i1; i++) ob.put(i, ab.get(i) * bb.get(i)); });
    }

    @Override
    public void geluBackward(INDArray x, INDArray dout, INDArray dx) {
        int n = (int) x.length();
        if (vector) {
            FloatBuffer xb = buf(x), db = buf(dout), ob = buf(dx);
            parallelFor(n, 4096, (i0, i1) -> VectorLoops.geluBackward(xb, db, ob, i0, i1));
            return;
        }
        FloatBuffer xb = buf(x), db = buf(dout), ob = buf(dx);
        parallelFor(n, 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double v = xb.get(i);
                double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
                double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
                ob.put(i, (float) (db.get(i) * (cdf + v * pdf)));
            }
        });
    }

    // ------------------------------------------------------------------ attention
    //
    // Per (sample, head) the head's q, k, v are copied out of the fused rows into small heap arrays; k and v
    // are also kept transposed with their token dim padded to tp (a multiple of the vector length) so that
    // every product below is a smallMatmul over contiguous rows. Scores and probabilities are [t, tp]; the
    // padding columns are never read as probabilities.

    private int padded(int t) { int l = vector ? VectorLoops.L : 1; return (t + l - 1) / l * l; }

    /** C[m, n] = sum_k A[m*ars + k*acs] * B[k*brs + n] (see VectorLoops.smallMatmul). */
    private void smallMatmul(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, float[] c, int co, int crs, int m, int k, int n) {
        if (vector) { VectorLoops.smallMatmul(a, ao, ars, acs, b, bo, brs, c, co, crs, m, k, n); return; }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int kk = 0; kk < k; kk++) acc += a[ao + i * ars + kk * acs] * b[bo + kk * brs + j];
                c[co + i * crs + j] = acc;
            }
        }
    }

    private void softmaxRow(float[] s, int off, int t) {
        if (vector) { VectorLoops.softmaxRow(s, off, t); return; }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < t; j++) max = Math.max(max, s[off + j]);
        float sum = 0;
        for (int j = 0; j < t; j++) { float e = (float) Math.exp(s[off + j] - max); s[off + j] = e; sum += e; }
        float inv = 1f / sum;
        for (int j = 0; j < t; j++) s[off + j] *= inv;
    }

    /** Copies head columns [col, col+hd) of sample b's t rows into rowMajor [t, hd] (scaled) and/or transposed [hd, tp]. */
    private static void loadHead(FloatBuffer src, int b, int t, int rowLen, int col, int hd, float scale, float[] rowMajor, float[] transposed, int tp, float[] tmp) {
        for (int i = 0; i < t; i++) {
            float[] dst = rowMajor != null ? rowMajor : tmp;
            int o = rowMajor != null ? i * hd : 0;
            src.get((b * t + i) * rowLen + col, dst, o, hd);
            if (scale != 1f) for (int e = 0; e < hd; e++) dst[o + e] *= scale;
            if (transposed != null) for (int e = 0; e < hd; e++) transposed[e * tp + i] = dst[o + e];
        }
    }

    @Override
    public void attention(INDArray qkv, int n, int t, int heads, INDArray out, INDArray probs) {
        FloatBuffer qb = buf(qkv), ob = buf(out), pb = buf(probs);
        int w = cols(out), hd = w / heads, w3 = 3 * w, tp = padded(t);
        checkAttention(qkv, out, probs, n, t, heads);
        float scale = (float) (1.0 / Math.sqrt(hd));
        parallelFor(n * heads, 1, (t0, t1) -> {
            float[] q = new float[t * hd], kT = new float[hd * tp], v = new float[t * hd], s = new float[t * tp], o = new float[t * hd], tmp = new float[hd];
            for (int task = t0; task < t1; task++) {
                int b = task / heads, col = (task % heads) * hd;
                loadHead(qb, b, t, w3, col, hd, scale, q, null, tp, tmp);
                loadHead(qb, b, t, w3, col + w, hd, 1f, null, kT, tp, tmp);
                loadHead(qb, b, t, w3, col + 2 * w, hd, 1f, v, null, tp, tmp);
                smallMatmul(q, 0, hd, 1, kT, 0, tp, s, 0, tp, t, hd, tp);          // S = (q / sqrt hd) k^T
                for (int i = 0; i < t; i++) {
                    softmaxRow(s, i * tp, t);
                    pb.put((task * t + i) * t, s, i * tp, t);
                }
                smallMatmul(s, 0, tp, 1, v, 0, hd, o, 0, hd, t, t, hd);            // O = P v
                for (int i = 0; i < t; i++) ob.put((b * t + i) * w + col, o, i * hd, hd);
            }
        });
    }

    @Override
    public void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int t, int heads, INDArray dqkv) {
        FloatBuffer db = buf(dout), qb = buf(qkv), pb = buf(probs), gb = buf(dqkv);
        int w = cols(dout), hd = w / heads, w3 = 3 * w, tp = padded(t);
        checkAttention(qkv, dout, probs, n, t, heads);
        if (dqkv.length() != qkv.length()) throw new IllegalArgumentException("attentionBackward: dqkv must have the shape of qkv");
        float scale = (float) (1.0 / Math.sqrt(hd));
        parallelFor(n * heads, 1, (t0, t1) -> {
            float[] q = new float[t * hd], k = new float[t * hd], vT = new float[hd * tp], dO = new float[t * hd], tmp = new float[hd];
            float[] p = new float[t * tp], dS = new float[t * tp];
            float[] dq = new float[t * hd], dk = new float[t * hd], dv = new float[t * hd];
            for (int task = t0; task < t1; task++) {
                int b = task / heads, col = (task % heads) * hd;
                loadHead(qb, b, t, w3, col, hd, 1f, q, null, tp, tmp);
                loadHead(qb, b, t, w3, col + w, hd, 1f, k, null, tp, tmp);
                loadHead(qb, b, t, w3, col + 2 * w, hd, 1f, null, vT, tp, tmp);
                loadHead(db, b, t, w, col, hd, 1f, dO, null, tp, tmp);
                for (int i = 0; i < t; i++) pb.get((task * t + i) * t, p, i * tp, t);
                smallMatmul(dO, 0, hd, 1, vT, 0, tp, dS, 0, tp, t, hd, tp);         // dP = dO v^T
                for (int i = 0; i < t; i++) {                                        // dS = P (dP - rowsum(P dP)) / sqrt hd
                    int o = i * tp;
                    float dot = 0;
                    for (int j = 0; j < t; j++) dot += p[o + j] * dS[o + j];
                    for (int j = 0; j < t; j++) dS[o + j] = p[o + j] * (dS[o + j] - dot) * scale;
                }
                smallMatmul(p, 0, 1, tp, dO, 0, hd, dv, 0, hd, t, t, hd);           // dv = P^T dO
                smallMatmul(dS, 0, tp, 1, k, 0, hd, dq, 0, hd, t, t, hd);           // dq = dS k
                smallMatmul(dS, 0, 1, tp, q, 0, hd, dk, 0, hd, t, t, hd);           // dk = dS^T q
                for (int i = 0; i < t; i++) {
                    int base = (b * t + i) * w3 + col;
                    gb.put(base, dq, i * hd, hd);
                    gb.put(base + w, dk, i * hd, hd);
                    gb.put(base + 2 * w, dv, i * hd, hd);
                }
            }
        });
    }

    private static void checkAttention(INDArray qkv, INDArray out, INDArray probs, int n, int t, int heads) {
        int w = cols(out);
        if (w % heads != 0 || cols(qkv) != 3 * w || rows(qkv) != n * t || rows(out) != n * t
                || probs.length() != (long) n * heads * t * t) {
            throw new IllegalArgumentException("attention shapes: qkv " + java.util.Arrays.toString(qkv.shape()) + ", out "
                    + java.util.Arrays.toString(out.shape()) + ", probs " + java.util.Arrays.toString(probs.shape())
                    + " for N=" + n + " T=" + t + " heads=" + heads);
        }
    }

    // ------------------------------------------------------------------ optimizer

    @Override
    public void adamw(INDArray p, INDArray g, INDArray m, INDArray v, double lr, double wd,
                      double b1, double b2, double eps, double bc1, double bc2) {
        int n = (int) p.length();
        if (g.length() != n || m.length() != n || v.length() != n) throw new IllegalArgumentException("adamw: lengths differ");
        float decay = (float) (1 - lr * wd), fb1 = (float) b1, fb2 = (float) b2, c1 = (float) (1 - b1), c2 = (float) (1 - b2);
        float step = (float) (lr / bc1), rsb2 = (float) (1 / Math.sqrt(bc2)), feps = (float) eps;
        if (vector) {
            FloatBuffer pb = buf(p), gb = buf(g), mb = buf(m), vb = buf(v);
            parallelFor(n, 1 << 14, (i0, i1) -> VectorLoops.adamw(pb, gb, mb, vb, decay, fb1, fb2, c1, c2, step, rsb2, feps, i0, i1));
            return;
        }
        FloatBuffer pb = buf(p), gb = buf(g), mb = buf(m), vb = buf(v);
        parallelFor(n, 1 << 14, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float gi = gb.get(i);
                float mi = fb1 * mb.get(i) + c1 * gi, vi = fb2 * vb.get(i) + c2 * gi * gi;
                mb.put(i, mi);
                vb.put(i, vi);
                pb.put(i, pb.get(i) * decay - step * mi / ((float) Math.sqrt(vi) * rsb2 + feps));
            }
        });
    }

    // ------------------------------------------------------------------ loss

    @Override
    public double weightedRowMse(INDArray pred, INDArray target, INDArray w, INDArray dpred) {
        FloatBuffer pb = buf(pred), tb = buf(target), wb = buf(w), gb = buf(dpred);
        int f = cols(pred), r = rows(pred);
        double loss = 0;
        for (int i = 0; i < r; i++) {
            float wi = wb.get(i);
            int o = i * f;
            double s = 0;
            float c = 2f * wi / f;
            for (int j = 0; j < f; j++) {
                float d = pb.get(o + j) - tb.get(o + j);
                s += d * d;
                gb.put(o + j, c * d);
            }
            loss += wi * (s / f);
        }
        return loss;
    }
}
