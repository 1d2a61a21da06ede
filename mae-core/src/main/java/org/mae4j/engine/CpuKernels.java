package org.mae4j.engine;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The CPU fast path (float32 only): matrix products go straight to OpenBLAS's {@code cblas_sgemm} on the
 * arrays' own off-heap memory (no copies, ~1 us per call instead of ~25 us through {@code Nd4j.gemm}), and
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

    /** Uses one worker per available processor. */
    public CpuKernels() { this(Runtime.getRuntime().availableProcessors()); }

    public CpuKernels(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.pool = new ForkJoinPool(threads);
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
        openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, (float) alpha,
                ptr(a), cols(a), ptr(b), cols(b), (float) beta, ptr(c), n);
    }

    @Override
    public void addRowVector(INDArray y, INDArray bias) {
        FloatBuffer yb = buf(y), bb = buf(bias);
        int f = cols(y);
        float[] b = new float[f];
        bb.get(0, b);
        parallelFor(rows(y), 256, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * f;
                for (int j = 0; j < f; j++) yb.put(o + j, yb.get(o + j) + b[j]);
            }
        });
    }

    @Override
    public void sumRowsInto(INDArray x, INDArray acc) {
        FloatBuffer xb = buf(x), ab = buf(acc);
        int f = cols(x), r = rows(x);
        double[] s = new double[f];
        for (int i = 0; i < r; i++) {
            int o = i * f;
            for (int j = 0; j < f; j++) s[j] += xb.get(o + j);
        }
        for (int j = 0; j < f; j++) ab.put(j, (float) (ab.get(j) + s[j]));
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
    public void load(double[] src, INDArray dst) {
        if (src.length != dst.length()) throw new IllegalArgumentException("load: " + src.length + " values into an array of " + dst.length());
        FloatBuffer d = buf(dst);
        for (int i = 0; i < src.length; i++) d.put(i, (float) src[i]);
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
        FloatBuffer xb = buf(x), ob = buf(out), mb = buf(mean), rb = buf(rstd);
        int f = cols(x);
        float[] g = new float[f], be = new float[f];
        buf(gamma).get(0, g);
        buf(beta).get(0, be);
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
        FloatBuffer db = buf(dout), xb = buf(x), mb = buf(mean), rb = buf(rstd), dxb = buf(dx);
        int f = cols(x), rowsN = rows(x);
        float[] g = new float[f];
        buf(gamma).get(0, g);
        // gamma/beta gradients are reductions over rows: each chunk sums its own, then they are added up.
        int chunks = Math.max(1, Math.min(threads * 4, rowsN / 64));
        double[][] dg = new double[chunks][f], dbt = new double[chunks][f];
        parallelFor(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int r0 = (int) ((long) rowsN * c / chunks), r1 = (int) ((long) rowsN * (c + 1) / chunks);
                double[] dgc = dg[c], dbc = dbt[c];
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
    public void gelu(INDArray x, INDArray out) {
        FloatBuffer xb = buf(x), ob = buf(out);
        parallelFor((int) x.length(), 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double v = xb.get(i);
                ob.put(i, (float) (0.5 * v * (1 + Erf.erf(v * INV_SQRT2))));
            }
        });
    }

    @Override
    public void geluBackward(INDArray x, INDArray dout, INDArray dx) {
        FloatBuffer xb = buf(x), db = buf(dout), ob = buf(dx);
        parallelFor((int) x.length(), 4096, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                double v = xb.get(i);
                double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
                double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
                ob.put(i, (float) (db.get(i) * (cdf + v * pdf)));
            }
        });
    }

    // ------------------------------------------------------------------ attention

    @Override
    public void attention(INDArray qkv, int n, int t, int heads, INDArray out, INDArray probs) {
        FloatBuffer qb = buf(qkv), ob = buf(out), pb = buf(probs);
        int w = cols(out), hd = w / heads, w3 = 3 * w;
        float scale = (float) (1.0 / Math.sqrt(hd));
        parallelFor(n * heads, 1, (t0, t1) -> {
            float[] q = new float[t * hd], kT = new float[hd * t], v = new float[t * hd], s = new float[t], o = new float[hd];
            for (int task = t0; task < t1; task++) {
                int b = task / heads, h = task % heads;
                loadHead(qb, b, t, w3, h * hd, hd, q, v, kT, w);
                for (int i = 0; i < t; i++) {
                    java.util.Arrays.fill(s, 0f);
                    for (int e = 0; e < hd; e++) {
                        float qe = q[i * hd + e] * scale;
                        int ko = e * t;
                        for (int j = 0; j < t; j++) s[j] += qe * kT[ko + j];
                    }
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) max = Math.max(max, s[j]);
                    float sum = 0;
                    for (int j = 0; j < t; j++) { s[j] = (float) Math.exp(s[j] - max); sum += s[j]; }
                    float inv = 1f / sum;
                    java.util.Arrays.fill(o, 0f);
                    int prow = (task * t + i) * t;
                    for (int j = 0; j < t; j++) {
                        float p = s[j] * inv;
                        pb.put(prow + j, p);
                        int vo = j * hd;
                        for (int e = 0; e < hd; e++) o[e] += p * v[vo + e];
                    }
                    ob.put((b * t + i) * w + h * hd, o, 0, hd);
                }
            }
        });
    }

    /** Copies head h's q, v ([t, hd]) and k transposed ([hd, t]) of sample b out of the fused qkv rows. */
    private static void loadHead(FloatBuffer qb, int b, int t, int w3, int col, int hd, float[] q, float[] v, float[] kT, int w) {
        float[] krow = new float[hd];
        for (int i = 0; i < t; i++) {
            int base = (b * t + i) * w3 + col;
            qb.get(base, q, i * hd, hd);
            qb.get(base + w, krow, 0, hd);
            qb.get(base + 2 * w, v, i * hd, hd);
            for (int e = 0; e < hd; e++) kT[e * t + i] = krow[e];
        }
    }

    @Override
    public void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int t, int heads, INDArray dqkv) {
        FloatBuffer db = buf(dout), qb = buf(qkv), pb = buf(probs), gb = buf(dqkv);
        int w = cols(dout), hd = w / heads, w3 = 3 * w;
        float scale = (float) (1.0 / Math.sqrt(hd));
        parallelFor(n * heads, 1, (t0, t1) -> {
            float[] q = new float[t * hd], kT = new float[hd * t], v = new float[t * hd], vT = new float[hd * t];
            float[] k = new float[t * hd], dO = new float[t * hd], p = new float[t * t], dP = new float[t];
            float[] dq = new float[t * hd], dk = new float[t * hd], dv = new float[t * hd];
            for (int task = t0; task < t1; task++) {
                int b = task / heads, h = task % heads, col = h * hd;
                loadHead(qb, b, t, w3, col, hd, q, v, kT, w);
                for (int i = 0; i < t; i++) {
                    db.get((b * t + i) * w + col, dO, i * hd, hd);
                    for (int e = 0; e < hd; e++) { k[i * hd + e] = kT[e * t + i]; vT[e * t + i] = v[i * hd + e]; }
                }
                pb.get(task * t * t, p, 0, t * t);
                java.util.Arrays.fill(dq, 0f);
                java.util.Arrays.fill(dk, 0f);
                java.util.Arrays.fill(dv, 0f);
                for (int i = 0; i < t; i++) {
                    int po = i * t, io = i * hd;
                    // dP[i, j] = dO[i] . v[j]
                    java.util.Arrays.fill(dP, 0f);
                    for (int e = 0; e < hd; e++) {
                        float d = dO[io + e];
                        int vo = e * t;
                        for (int j = 0; j < t; j++) dP[j] += d * vT[vo + j];
                    }
                    // dV[j] += P[i, j] dO[i]
                    float dot = 0;
                    for (int j = 0; j < t; j++) {
                        float pij = p[po + j];
                        dot += pij * dP[j];
                        int vo = j * hd;
                        for (int e = 0; e < hd; e++) dv[vo + e] += pij * dO[io + e];
                    }
                    // dS = P (dP - sum_j P dP), scaled once for both dQ and dK
                    for (int j = 0; j < t; j++) {
                        float ds = p[po + j] * (dP[j] - dot) * scale;
                        int jo = j * hd;
                        for (int e = 0; e < hd; e++) {
                            dq[io + e] += ds * k[jo + e];
                            dk[jo + e] += ds * q[io + e];
                        }
                    }
                }
                for (int i = 0; i < t; i++) {
                    int base = (b * t + i) * w3 + col;
                    gb.put(base, dq, i * hd, hd);
                    gb.put(base + w, dk, i * hd, hd);
                    gb.put(base + 2 * w, dv, i * hd, hd);
                }
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
