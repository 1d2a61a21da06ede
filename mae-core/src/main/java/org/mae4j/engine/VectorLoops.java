package org.mae4j.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.FloatBuffer;

/**
 * The hot loops of {@link CpuKernels} written with the Vector API (jdk.incubator.vector). Only loaded when
 * that module is present ({@code --add-modules jdk.incubator.vector}); CpuKernels falls back to plain loops
 * otherwise.
 *
 * <p>Vectors are loaded and stored on heap arrays only ({@code fromArray}/{@code intoArray}), the one memory
 * access the Vector API has in every release from 17 on: JDK 20 replaced {@code fromByteBuffer} and
 * {@code intoByteBuffer} with MemorySegment methods (a preview API on 21), so a loop on ByteBuffers stops
 * with NoSuchMethodError there. The off-heap arrays (FloatBuffers over ND4J's memory) pass through small heap
 * windows of a few KB: one bulk copy in and one out per window, which stays in L1 and leaves the arithmetic,
 * and so every result bit, as it was (docs/performance.md).
 *
 * <p>On Java 17, {@code max/min} with a scalar and the F2I conversion are not intrinsified (10x slower), and
 * lanewise EXP, though an intrinsic, is a stub call that spills the live vector registers: the loops here
 * avoid all three (see {@link #expHalfSquare}).
 */
final class VectorLoops {
    private VectorLoops() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;

    /** Values per heap window of the element-wise loops (16 KB: a few windows at a time stay in L1). */
    private static final int BLOCK = 4096;

    /** Whole rows of f values per heap window (at least one row). */
    private static int rowsPerWindow(int f) { return Math.max(1, BLOCK / f); }

    // erf by Abramowitz & Stegun 7.1.26: erf(z) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-z^2),
    // t = 1 / (1 + p z), |error| <= 1.5e-7. Its exp(-z^2) with z = x/sqrt2 is exp(-x^2/2), the same factor the
    // GELU derivative's density needs, so the backward costs one exp per element as well.
    // The arithmetic is written out inside each loop: a helper method taking and returning vectors is not
    // always inlined by C2, and a vector that escapes a call is boxed (10x slower).
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    // exp(-v^2/2) for the GELU loops: see expHalfSquare.
    private static final float CLAMP = 6f;
    private static final float[] EXP_TAYLOR = {0.32465246735834974f, 0.32465246735834974f, 0.16232623367917487f, 0.054108744559724954f, 0.013527186139931239f, 0.0027054372279862477f, 0.00045090620466437464f, 6.441517209491067e-05f, 8.051896511863834e-06f, 8.946551679848703e-07f, 8.946551679848703e-08f, 8.133228799862457e-09f};   // exp(-9/8) / k!

    /** Elements per pass of the GELU loops when there is no bias row to follow (a few KB: both passes hit L1). */
    private static final int GELU_BLOCK = 1024;

    /**
     * out[i] = gelu(v) with v = x[i] + bias[i % f] for i in [from, to), whole rows of f (bias null: v = x[i],
     * any range); with keepDerivative x[i] is overwritten by gelu'(v) = Phi(v) + v phi(v).
     *
     * <p>Two passes per row, exp first (into a small heap scratch) and the rest second, because C2 compiles
     * each Vector API operation through a deep tree of inlined methods: a loop of ~45 operations exceeded
     * its node budget (LiveNodeCountInliningCutoff), and whichever operations were left as calls boxed their
     * vectors. Which ones depended on compilation timing, so GELU took 25 or 230 ms per step at random from
     * one JVM to the next; with at most ~25 operations per method it compiles fully every time.
     */
    static void biasGelu(FloatBuffer x, float[] bias, int f, FloatBuffer out, boolean keepDerivative, int from, int to) {
        int block = bias == null ? GELU_BLOCK : f;
        float[] e = new float[block], xs = new float[block], os = new float[block];
        for (int r = from; r < to; r += block) {
            int len = Math.min(block, to - r);
            x.get(r, xs, 0, len);
            expHalfSquare(xs, bias, len, e);
            int done = geluFromExp(xs, bias, len, e, os, keepDerivative);
            if (done < len) biasGeluTail(xs, bias, os, keepDerivative, done, len);
            out.put(r, os, 0, len);
            if (keepDerivative) x.put(r, xs, 0, len);   // after out: where the two are one array, x's values win, as before
        }
    }

    /** dx[i] = dout[i] * gelu'(x[i]) for i in [from, to); gelu'(x) = Phi(x) + x phi(x). Two passes as in biasGelu. */
    static void geluBackward(FloatBuffer x, FloatBuffer dout, FloatBuffer dx, int from, int to) {
        float[] e = new float[GELU_BLOCK], xs = new float[GELU_BLOCK], ds = new float[GELU_BLOCK];
        for (int r = from; r < to; r += GELU_BLOCK) {
            int len = Math.min(GELU_BLOCK, to - r);
            x.get(r, xs, 0, len);
            dout.get(r, ds, 0, len);
            expHalfSquare(xs, null, len, e);
            int done = geluDerivativeFromExp(xs, len, e, ds);
            if (done < len) geluBackwardTail(xs, ds, done, len);
            dx.put(r, ds, 0, len);
        }
    }

    /**
     * e[j] = exp(-vc^2/2), vc = v clamped to [-6, 6], v = x[j] (+ bias[j]), for the whole vectors of [0, len).
     *
     * <p>Not lanewise(EXP): on Java 17 that is a call into an SVML stub around which C2 spills every live
     * vector register (the GELU loop ran at 2.5 ns per element with it, ~1 without, one thread). Nor bit
     * tricks or masks: reinterpretAsInts and compare/blend also compiled to boxing calls in some runs. Beyond
     * |v| = 6, Phi is 0 or 1 and v phi(v) < 4e-8 in float, hence the clamp. exp(-vc^2/2) = exp(d - 9/8)^8 with
     * d = 9/8 - vc^2/16 in [0, 9/8], exp(d - 9/8) by its Taylor series to degree 11 (truncation < 1e-8).
     */
    private static void expHalfSquare(float[] x, float[] bias, int len, float[] e) {
        FloatVector hi = FloatVector.broadcast(S, CLAMP), lo = FloatVector.broadcast(S, -CLAMP);
        FloatVector minus16th = FloatVector.broadcast(S, -1f / 16), nineEighths = FloatVector.broadcast(S, 1.125f);
        FloatVector k0 = FloatVector.broadcast(S, EXP_TAYLOR[0]), k1 = FloatVector.broadcast(S, EXP_TAYLOR[1]), k2 = FloatVector.broadcast(S, EXP_TAYLOR[2]);
        FloatVector k3 = FloatVector.broadcast(S, EXP_TAYLOR[3]), k4 = FloatVector.broadcast(S, EXP_TAYLOR[4]), k5 = FloatVector.broadcast(S, EXP_TAYLOR[5]);
        FloatVector k6 = FloatVector.broadcast(S, EXP_TAYLOR[6]), k7 = FloatVector.broadcast(S, EXP_TAYLOR[7]), k8 = FloatVector.broadcast(S, EXP_TAYLOR[8]);
        FloatVector k9 = FloatVector.broadcast(S, EXP_TAYLOR[9]), k10 = FloatVector.broadcast(S, EXP_TAYLOR[10]), k11 = FloatVector.broadcast(S, EXP_TAYLOR[11]);
        for (int j = 0; j <= len - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            if (bias != null) v = v.add(FloatVector.fromArray(S, bias, j));
            FloatVector vc = v.max(lo).min(hi);
            FloatVector d = vc.mul(vc).fma(minus16th, nineEighths);
            FloatVector p = d.fma(k11, k10).fma(d, k9).fma(d, k8).fma(d, k7).fma(d, k6).fma(d, k5).fma(d, k4).fma(d, k3).fma(d, k2).fma(d, k1).fma(d, k0);
            p = p.mul(p);
            p = p.mul(p);
            p.mul(p).intoArray(e, j);
        }
    }

    /**
     * out[j] = v Phi(v) (and with keepDerivative x[j] = Phi(v) + vc phi(vc)) from e = expHalfSquare's
     * output, for the whole vectors of [0, len); returns how many elements it did. Phi by the erf formula
     * above; the sign of v enters as clamp(v * 1e30, -1, 1), which is +-1 wherever it matters (|v| < 1e-30
     * gives Phi = 1/2 either way).
     */
    private static int geluFromExp(float[] x, float[] bias, int len, float[] e, float[] out, boolean keepDerivative) {
        FloatVector one = FloatVector.broadcast(S, 1f), minusOne = FloatVector.broadcast(S, -1f), half = FloatVector.broadcast(S, 0.5f);
        FloatVector hi = FloatVector.broadcast(S, CLAMP), lo = FloatVector.broadcast(S, -CLAMP), huge = FloatVector.broadcast(S, 1e30f);
        FloatVector p = FloatVector.broadcast(S, P * INV_SQRT2), a5 = FloatVector.broadcast(S, A5), a4 = FloatVector.broadcast(S, A4);
        FloatVector a3 = FloatVector.broadcast(S, A3), a2 = FloatVector.broadcast(S, A2), a1 = FloatVector.broadcast(S, A1);
        FloatVector invSqrt2Pi = FloatVector.broadcast(S, INV_SQRT_2PI);
        int j = 0;
        for (; j <= len - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            if (bias != null) v = v.add(FloatVector.fromArray(S, bias, j));
            FloatVector ev = FloatVector.fromArray(S, e, j);
            FloatVector t = one.div(v.abs().fma(p, one));
            FloatVector q = t.fma(a5, a4).fma(t, a3).fma(t, a2).fma(t, a1).mul(t).mul(ev).mul(half);   // (1 - erf(|v|/sqrt2)) / 2
            FloatVector cdf = half.sub(q).fma(v.mul(huge).max(minusOne).min(one), half);
            v.mul(cdf).intoArray(out, j);
            if (keepDerivative) v.max(lo).min(hi).mul(ev).fma(invSqrt2Pi, cdf).intoArray(x, j);
        }
        return j;
    }

    /**
     * d[j] = d[j] * (Phi(v) + vc phi(vc)), v = x[j], from expHalfSquare's e (d holds dout, then dx); as
     * geluFromExp. Its constants and Phi are written out again rather than shared: a helper passing vectors can
     * box them, and merging the two loops behind flags would add operations to a method that must stay under
     * C2's budget.
     */
    private static int geluDerivativeFromExp(float[] x, int len, float[] e, float[] d) {
        FloatVector one = FloatVector.broadcast(S, 1f), minusOne = FloatVector.broadcast(S, -1f), half = FloatVector.broadcast(S, 0.5f);
        FloatVector hi = FloatVector.broadcast(S, CLAMP), lo = FloatVector.broadcast(S, -CLAMP), huge = FloatVector.broadcast(S, 1e30f);
        FloatVector p = FloatVector.broadcast(S, P * INV_SQRT2), a5 = FloatVector.broadcast(S, A5), a4 = FloatVector.broadcast(S, A4);
        FloatVector a3 = FloatVector.broadcast(S, A3), a2 = FloatVector.broadcast(S, A2), a1 = FloatVector.broadcast(S, A1);
        FloatVector invSqrt2Pi = FloatVector.broadcast(S, INV_SQRT_2PI);
        int j = 0;
        for (; j <= len - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, j);
            FloatVector ev = FloatVector.fromArray(S, e, j);
            FloatVector t = one.div(v.abs().fma(p, one));
            FloatVector q = t.fma(a5, a4).fma(t, a3).fma(t, a2).fma(t, a1).mul(t).mul(ev).mul(half);
            FloatVector cdf = half.sub(q).fma(v.mul(huge).max(minusOne).min(one), half);
            FloatVector g = v.max(lo).min(hi).mul(ev).fma(invSqrt2Pi, cdf);
            FloatVector.fromArray(S, d, j).mul(g).intoArray(d, j);
        }
        return j;
    }

    /** The scalar remainder of a window of biasGelu, [from, to). */
    private static void biasGeluTail(float[] x, float[] bias, float[] out, boolean keepDerivative, int from, int to) {
        for (int j = from; j < to; j++) {
            double v = x[j] + (bias == null ? 0 : bias[j]);
            double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
            out[j] = (float) (v * cdf);
            if (keepDerivative) x[j] = (float) (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
        }
    }

    /** The scalar remainder of a window of geluBackward, [from, to); d holds dout, then dx. */
    private static void geluBackwardTail(float[] x, float[] d, int from, int to) {
        for (int i = from; i < to; i++) {
            double v = x[i];
            double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
            d[i] = (float) (d[i] * (cdf + v * pdf));
        }
    }

    /** out[i] = a[i] * b[i] for i in [from, to). */
    static void multiply(FloatBuffer a, FloatBuffer b, FloatBuffer out, int from, int to) {
        float[] as = new float[BLOCK], bs = new float[BLOCK];
        for (int s = from; s < to; s += BLOCK) {
            int len = Math.min(BLOCK, to - s), i = 0;
            a.get(s, as, 0, len);
            b.get(s, bs, 0, len);
            for (; i <= len - L; i += L) FloatVector.fromArray(S, as, i).mul(FloatVector.fromArray(S, bs, i)).intoArray(as, i);
            for (; i < len; i++) as[i] = as[i] * bs[i];
            out.put(s, as, 0, len);
        }
    }

    /** y[r, :] += bias for rows [r0, r1). */
    static void addRowVector(FloatBuffer y, float[] bias, int f, int r0, int r1) {
        int rows = rowsPerWindow(f);
        float[] ys = new float[rows * f];
        for (int w = r0; w < r1; w += rows) {
            int nr = Math.min(rows, r1 - w);
            y.get(w * f, ys, 0, nr * f);
            for (int r = 0; r < nr; r++) {
                int o = r * f, j = 0;
                for (; j <= f - L; j += L) FloatVector.fromArray(S, ys, o + j).add(FloatVector.fromArray(S, bias, j)).intoArray(ys, o + j);
                for (; j < f; j++) ys[o + j] = ys[o + j] + bias[j];
            }
            y.put(w * f, ys, 0, nr * f);
        }
    }

    /** acc[j] += sum over rows [r0, r1) of x[r, j], accumulated in float lanes; rows are read in memory order. */
    static void sumRows(FloatBuffer x, int f, int r0, int r1, float[] acc) {
        int fv = f - f % L, rows = rowsPerWindow(f);
        float[] xs = new float[rows * f];
        for (int w = r0; w < r1; w += rows) {
            int nr = Math.min(rows, r1 - w);
            x.get(w * f, xs, 0, nr * f);
            for (int r = 0; r < nr; r++) {
                int o = r * f, j = 0;
                for (; j < fv; j += L) FloatVector.fromArray(S, xs, o + j).add(FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
                for (; j < f; j++) acc[j] += xs[o + j];
            }
        }
    }

    /** LayerNorm of rows [r0, r1) (see {@link Kernels#layerNorm}). */
    static void layerNorm(FloatBuffer x, float[] g, float[] b, float eps, FloatBuffer out, FloatBuffer mean, FloatBuffer rstd,
                          int f, int r0, int r1) {
        float[] lanes = new float[L];
        int rows = rowsPerWindow(f);
        float[] xs = new float[rows * f], os = new float[rows * f];
        for (int w = r0; w < r1; w += rows) {
            int nr = Math.min(rows, r1 - w);
            x.get(w * f, xs, 0, nr * f);
            for (int r = 0; r < nr; r++) {
                int o = r * f, j = 0;
                FloatVector s = FloatVector.zero(S);
                for (; j <= f - L; j += L) s = s.add(FloatVector.fromArray(S, xs, o + j));
                float sum = sumLanes(s, lanes);
                for (; j < f; j++) sum += xs[o + j];
                float mu = sum / f;
                FloatVector v = FloatVector.zero(S);
                j = 0;
                for (; j <= f - L; j += L) { FloatVector d = FloatVector.fromArray(S, xs, o + j).sub(mu); v = d.fma(d, v); }
                float var = sumLanes(v, lanes);
                for (; j < f; j++) { float d = xs[o + j] - mu; var += d * d; }
                float rs = (float) (1.0 / Math.sqrt(var / f + eps));
                j = 0;
                for (; j <= f - L; j += L) {
                    FloatVector xh = FloatVector.fromArray(S, xs, o + j).sub(mu).mul(rs);
                    xh.fma(FloatVector.fromArray(S, g, j), FloatVector.fromArray(S, b, j)).intoArray(os, o + j);
                }
                for (; j < f; j++) os[o + j] = (xs[o + j] - mu) * rs * g[j] + b[j];
                mean.put(w + r, mu);
                rstd.put(w + r, rs);
            }
            out.put(w * f, os, 0, nr * f);
        }
    }

    /** LayerNorm backward of rows [r0, r1): dx += ...; dg, db (float partial sums of this range) +=. */
    static void layerNormBackward(FloatBuffer dout, FloatBuffer x, FloatBuffer mean, FloatBuffer rstd, float[] g, FloatBuffer dx,
                                  float[] dg, float[] db, int f, int r0, int r1) {
        float[] lanes = new float[L];
        int rows = rowsPerWindow(f);
        float[] ds = new float[rows * f], xs = new float[rows * f], dxs = new float[rows * f];
        for (int w = r0; w < r1; w += rows) {
            int nr = Math.min(rows, r1 - w);
            dout.get(w * f, ds, 0, nr * f);
            x.get(w * f, xs, 0, nr * f);
            dx.get(w * f, dxs, 0, nr * f);
            for (int r = 0; r < nr; r++) {
                int o = r * f, j = 0;
                float mu = mean.get(w + r), rs = rstd.get(w + r);
                FloatVector sd = FloatVector.zero(S), sdx = FloatVector.zero(S);
                for (; j <= f - L; j += L) {
                    FloatVector xh = FloatVector.fromArray(S, xs, o + j).sub(mu).mul(rs);
                    FloatVector d = FloatVector.fromArray(S, ds, o + j);
                    FloatVector dxh = d.mul(FloatVector.fromArray(S, g, j));
                    sd = sd.add(dxh);
                    sdx = dxh.fma(xh, sdx);
                    d.fma(xh, FloatVector.fromArray(S, dg, j)).intoArray(dg, j);
                    d.add(FloatVector.fromArray(S, db, j)).intoArray(db, j);
                }
                float sumD = sumLanes(sd, lanes), sumDX = sumLanes(sdx, lanes);
                for (; j < f; j++) {
                    float xh = (xs[o + j] - mu) * rs, d = ds[o + j], dxh = d * g[j];
                    sumD += dxh; sumDX += dxh * xh; dg[j] += d * xh; db[j] += d;
                }
                float mD = sumD / f, mDX = sumDX / f;
                j = 0;
                for (; j <= f - L; j += L) {
                    FloatVector xh = FloatVector.fromArray(S, xs, o + j).sub(mu).mul(rs);
                    FloatVector dxh = FloatVector.fromArray(S, ds, o + j).mul(FloatVector.fromArray(S, g, j));
                    FloatVector r1v = dxh.sub(mD).sub(xh.mul(mDX)).mul(rs);
                    FloatVector.fromArray(S, dxs, o + j).add(r1v).intoArray(dxs, o + j);
                }
                for (; j < f; j++) {
                    float xh = (xs[o + j] - mu) * rs, dxh = ds[o + j] * g[j];
                    dxs[o + j] = dxs[o + j] + rs * (dxh - mD - xh * mDX);
                }
            }
            dx.put(w * f, dxs, 0, nr * f);
        }
    }

    /**
     * Small product on heap arrays: {@code C[m, n] = sum_k A[m*ars + k*acs] * B[k*brs + n]} for m < M, n < N,
     * k < K (C rows at stride crs). A is read through strides, so {@code A^T} costs nothing. Each output
     * vector stays in a register over the whole k loop: one load and one FMA per step.
     */
    static void smallMatmul(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs,
                            float[] c, int co, int crs, int m, int k, int n) {
        int nv = n - n % L;
        int i = 0;
        // Four rows at a time over pairs of vectors: 8 independent accumulators keep the FMA units busy, where
        // one row's 2 accumulators would wait on each FMA's latency (the attention products have k = 32..64).
        for (; i + 4 <= m; i += 4) {
            int a0 = ao + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
            int c0 = co + i * crs;
            int j = 0;
            for (; j + 2 * L <= nv; j += 2 * L) {
                FloatVector x00 = FloatVector.zero(S), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
                for (int kk = 0; kk < k; kk++) {
                    int bk = bo + kk * brs + j, ak = kk * acs;
                    FloatVector b0 = FloatVector.fromArray(S, b, bk), b1 = FloatVector.fromArray(S, b, bk + L);
                    FloatVector v0 = FloatVector.broadcast(S, a[a0 + ak]);
                    x00 = b0.fma(v0, x00); x01 = b1.fma(v0, x01);
                    FloatVector v1 = FloatVector.broadcast(S, a[a1 + ak]);
                    x10 = b0.fma(v1, x10); x11 = b1.fma(v1, x11);
                    FloatVector v2 = FloatVector.broadcast(S, a[a2 + ak]);
                    x20 = b0.fma(v2, x20); x21 = b1.fma(v2, x21);
                    FloatVector v3 = FloatVector.broadcast(S, a[a3 + ak]);
                    x30 = b0.fma(v3, x30); x31 = b1.fma(v3, x31);
                }
                x00.intoArray(c, c0 + j); x01.intoArray(c, c0 + j + L);
                x10.intoArray(c, c0 + crs + j); x11.intoArray(c, c0 + crs + j + L);
                x20.intoArray(c, c0 + 2 * crs + j); x21.intoArray(c, c0 + 2 * crs + j + L);
                x30.intoArray(c, c0 + 3 * crs + j); x31.intoArray(c, c0 + 3 * crs + j + L);
            }
            for (int r = 0; r < 4; r++) rowTail(a, ao + (i + r) * ars, acs, b, bo, brs, c, co + (i + r) * crs, k, n, nv, j);
        }
        for (; i < m; i++) {
            int ai = ao + i * ars, ci = co + i * crs;
            int j = 0;
            for (; j + 2 * L <= nv; j += 2 * L) {
                FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
                for (int kk = 0; kk < k; kk++) {
                    FloatVector av = FloatVector.broadcast(S, a[ai + kk * acs]);
                    int bk = bo + kk * brs + j;
                    acc0 = FloatVector.fromArray(S, b, bk).fma(av, acc0);
                    acc1 = FloatVector.fromArray(S, b, bk + L).fma(av, acc1);
                }
                acc0.intoArray(c, ci + j);
                acc1.intoArray(c, ci + j + L);
            }
            rowTail(a, ai, acs, b, bo, brs, c, ci, k, n, nv, j);
        }
    }

    /** Columns [j0, n) of one row of smallMatmul's product: single vectors up to nv, then scalars. */
    private static void rowTail(float[] a, int ai, int acs, float[] b, int bo, int brs, float[] c, int ci, int k, int n, int nv, int j0) {
        int j = j0;
        for (; j < nv; j += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int kk = 0; kk < k; kk++) {
                acc = FloatVector.fromArray(S, b, bo + kk * brs + j).fma(FloatVector.broadcast(S, a[ai + kk * acs]), acc);
            }
            acc.intoArray(c, ci + j);
        }
        for (; j < n; j++) {
            float acc = 0;
            for (int kk = 0; kk < k; kk++) acc += a[ai + kk * acs] * b[bo + kk * brs + j];
            c[ci + j] = acc;
        }
    }

    /** AdamW over elements [from, to) (see {@link Kernels#adamw}); scalars precomputed by the caller. */
    static void adamw(FloatBuffer p, FloatBuffer g, FloatBuffer m, FloatBuffer v, float decay, float b1, float b2, float c1, float c2,
                      float step, float rsb2, float eps, int from, int to) {
        float[] ps = new float[BLOCK], gs = new float[BLOCK], ms = new float[BLOCK], vs = new float[BLOCK];
        for (int s = from; s < to; s += BLOCK) {
            int len = Math.min(BLOCK, to - s);
            p.get(s, ps, 0, len); g.get(s, gs, 0, len); m.get(s, ms, 0, len); v.get(s, vs, 0, len);
            int i = 0;
            for (; i <= len - L; i += L) {
                FloatVector gi = FloatVector.fromArray(S, gs, i);
                FloatVector mi = FloatVector.fromArray(S, ms, i).mul(b1).add(gi.mul(c1));
                FloatVector vi = FloatVector.fromArray(S, vs, i).mul(b2).add(gi.mul(gi).mul(c2));
                mi.intoArray(ms, i);
                vi.intoArray(vs, i);
                FloatVector denom = vi.sqrt().mul(rsb2).add(eps);
                FloatVector.fromArray(S, ps, i).mul(decay).sub(mi.mul(step).div(denom)).intoArray(ps, i);
            }
            for (; i < len; i++) {
                float gi = gs[i];
                float mi = b1 * ms[i] + c1 * gi, vi = b2 * vs[i] + c2 * gi * gi;
                ms[i] = mi;
                vs[i] = vi;
                ps[i] = ps[i] * decay - step * mi / ((float) Math.sqrt(vi) * rsb2 + eps);
            }
            m.put(s, ms, 0, len); v.put(s, vs, 0, len); p.put(s, ps, 0, len);
        }
    }

    // exp for the softmax: 2^n * e^r with n = round(x / ln 2), r = x - n ln 2 (Cody-Waite, two parts of ln 2),
    // e^r by its Taylor series to degree 7 (|r| <= ln2/2: truncation ~5e-9 relative), 2^n built from its bits.
    // Written out instead of lanewise(EXP) because that one is SVML once C2 compiles the loop and StrictMath
    // before, which differ in the last bit: the first steps of a run depended on when the JIT got there, and
    // two runs with one seed drifted apart (issue 16). Float fma rounds once on both paths, so the scalar
    // tail and the vector body agree too.
    private static final float EXP_LO = -87.0f, LOG2E = 1.44269504088896341f, ROUND_MAGIC = 12582912f;   // 1.5 * 2^23
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float E2 = 1f / 2, E3 = 1f / 6, E4 = 1f / 24, E5 = 1f / 120, E6 = 1f / 720, E7 = 1f / 5040;
    private static final int MAGIC_BITS = Float.floatToRawIntBits(ROUND_MAGIC);

    /** The scalar twin of the vector exp in {@link #softmaxRow} (same operations, same rounding); x <= 88. */
    static float exp(float x) {
        x = Math.max(x, EXP_LO);
        float t = Math.fma(x, LOG2E, ROUND_MAGIC);
        float n = t - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(E7, r, E6);
        p = Math.fma(p, r, E5);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - MAGIC_BITS + 127) << 23);
    }

    /**
     * The sum of v's lanes in lane order. reduceLanes(ADD) adds in a tree when compiled and in lane order when
     * interpreted, so its result depended on JIT timing; this order is the same on both.
     */
    static float sumLanes(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        float s = 0;
        for (int i = 0; i < L; i++) s += scratch[i];
        return s;
    }

    /** Softmax of s[off .. off+t) in place. */
    static void softmaxRow(float[] s, int off, int t) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < t; j++) max = Math.max(max, s[off + j]);
        int j = 0;
        FloatVector sum = FloatVector.zero(S);
        FloatVector lo = FloatVector.broadcast(S, EXP_LO), magic = FloatVector.broadcast(S, ROUND_MAGIC);
        FloatVector log2e = FloatVector.broadcast(S, LOG2E), ln2hi = FloatVector.broadcast(S, -LN2_HI), ln2lo = FloatVector.broadcast(S, -LN2_LO);
        FloatVector e7 = FloatVector.broadcast(S, E7), e6 = FloatVector.broadcast(S, E6), e5 = FloatVector.broadcast(S, E5);
        FloatVector e4 = FloatVector.broadcast(S, E4), e3 = FloatVector.broadcast(S, E3), e2 = FloatVector.broadcast(S, E2);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; j <= t - L; j += L) {
            FloatVector x = FloatVector.fromArray(S, s, off + j).sub(max).max(lo);
            FloatVector tt = x.fma(log2e, magic);
            FloatVector n = tt.sub(magic);
            FloatVector r = n.fma(ln2hi, x);
            r = n.fma(ln2lo, r);
            FloatVector p = e7.fma(r, e6);
            p = p.fma(r, e5);
            p = p.fma(r, e4);
            p = p.fma(r, e3);
            p = p.fma(r, e2);
            p = p.fma(r, one);
            p = p.fma(r, one);
            FloatVector scale = tt.reinterpretAsInts().sub(MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector v = p.mul(scale);
            v.intoArray(s, off + j);
            sum = sum.add(v);
        }
        float total = sumLanes(sum, new float[L]);
        for (; j < t; j++) { float e = exp(s[off + j] - max); s[off + j] = e; total += e; }
        float inv = 1f / total;
        j = 0;
        for (; j <= t - L; j += L) FloatVector.fromArray(S, s, off + j).mul(inv).intoArray(s, off + j);
        for (; j < t; j++) s[off + j] *= inv;
    }
}
