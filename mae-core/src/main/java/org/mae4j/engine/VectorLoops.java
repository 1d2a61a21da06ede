package org.mae4j.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The hot loops of {@link CpuKernels} written with the Vector API (jdk.incubator.vector). Only loaded when
 * that module is present ({@code --add-modules jdk.incubator.vector}); CpuKernels falls back to plain loops
 * otherwise. Element i of a buffer sits at byte 4*i, native order.
 *
 * <p>On Java 17, lanewise EXP is fast (an intrinsic), while {@code max/min} with a scalar and the F2I
 * conversion are not intrinsified (10x slower): the loops here avoid both.
 */
final class VectorLoops {
    private VectorLoops() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;

    private static FloatVector load(ByteBuffer b, int i) { return FloatVector.fromByteBuffer(S, b, 4 * i, NO); }
    private static void store(FloatVector v, ByteBuffer b, int i) { v.intoByteBuffer(b, 4 * i, NO); }

    // erf by Abramowitz & Stegun 7.1.26: erf(z) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-z^2),
    // t = 1 / (1 + p z), |error| <= 1.5e-7. Its exp(-z^2) with z = x/sqrt2 is exp(-x^2/2), the same factor the
    // GELU derivative's density needs, so the backward costs one exp per element as well.
    // The arithmetic is written out inside each loop: a helper method taking and returning vectors is not
    // always inlined by C2, and a vector that escapes a call is boxed (10x slower).
    static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    /**
     * out[i] = gelu(v) with v = x[i] + bias[i % f] (bias may be null) for i in [from, to), whole rows of f;
     * with keepDerivative x[i] is overwritten by gelu'(v) = Phi(v) + v phi(v).
     */
    static void biasGelu(ByteBuffer x, float[] bias, int f, ByteBuffer out, boolean keepDerivative, int from, int to) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int r = from; r < to; r += f) {
            int j = 0;
            for (; j <= f - L; j += L) {
                FloatVector v = load(x, r + j);
                if (bias != null) v = v.add(FloatVector.fromArray(S, bias, j));
                FloatVector z = v.abs().mul(INV_SQRT2);
                FloatVector t = one.div(z.mul(P).add(one));
                FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
                FloatVector e = v.mul(v).mul(-0.5f).lanewise(VectorOperators.EXP);
                FloatVector erfAbs = one.sub(poly.mul(e));
                // erf is odd: |erf| from the formula, the sign of v
                FloatVector cdf = erfAbs.blend(erfAbs.neg(), v.compare(VectorOperators.LT, 0f)).add(one).mul(0.5f);
                store(v.mul(cdf), out, r + j);
                if (keepDerivative) store(v.mul(e.mul(INV_SQRT_2PI)).add(cdf), x, r + j);
            }
            for (; j < f; j++) {
                double v = x.getFloat(4 * (r + j)) + (bias == null ? 0 : bias[j]);
                double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
                out.putFloat(4 * (r + j), (float) (v * cdf));
                if (keepDerivative) x.putFloat(4 * (r + j), (float) (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v)));
            }
        }
    }

    /** dx[i] = dout[i] * gelu'(x[i]) for i in [from, to); gelu'(x) = Phi(x) + x phi(x). */
    static void geluBackward(ByteBuffer x, ByteBuffer dout, ByteBuffer dx, int from, int to) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = load(x, i);
            FloatVector z = v.abs().mul(INV_SQRT2);
            FloatVector t = one.div(z.mul(P).add(one));
            FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
            FloatVector e = v.mul(v).mul(-0.5f).lanewise(VectorOperators.EXP);
            FloatVector erfAbs = one.sub(poly.mul(e));
            FloatVector erf = erfAbs.blend(erfAbs.neg(), v.compare(VectorOperators.LT, 0f));
            FloatVector cdf = erf.add(one).mul(0.5f);
            FloatVector pdf = e.mul(INV_SQRT_2PI);
            store(load(dout, i).mul(v.fma(pdf, cdf)), dx, i);
        }
        for (; i < to; i++) {
            double v = x.getFloat(4 * i);
            double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT2));
            double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
            dx.putFloat(4 * i, (float) (dout.getFloat(4 * i) * (cdf + v * pdf)));
        }
    }

    /** out[i] = a[i] * b[i] for i in [from, to). */
    static void multiply(ByteBuffer a, ByteBuffer b, ByteBuffer out, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) store(load(a, i).mul(load(b, i)), out, i);
        for (; i < to; i++) out.putFloat(4 * i, a.getFloat(4 * i) * b.getFloat(4 * i));
    }

    /** y[r, :] += bias for rows [r0, r1). */
    static void addRowVector(ByteBuffer y, float[] bias, int f, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int o = r * f, j = 0;
            for (; j <= f - L; j += L) store(load(y, o + j).add(FloatVector.fromArray(S, bias, j)), y, o + j);
            for (; j < f; j++) y.putFloat(4 * (o + j), y.getFloat(4 * (o + j)) + bias[j]);
        }
    }

    /** acc[j] += sum over rows [r0, r1) of x[r, j], accumulated in float lanes; rows are read in memory order. */
    static void sumRows(ByteBuffer x, int f, int r0, int r1, float[] acc) {
        int fv = f - f % L;
        for (int r = r0; r < r1; r++) {
            int o = r * f, j = 0;
            for (; j < fv; j += L) load(x, o + j).add(FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
            for (; j < f; j++) acc[j] += x.getFloat(4 * (o + j));
        }
    }

    /** LayerNorm of rows [r0, r1) (see {@link Kernels#layerNorm}). */
    static void layerNorm(ByteBuffer x, float[] g, float[] b, float eps, ByteBuffer out, ByteBuffer mean, ByteBuffer rstd,
                          int f, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int o = r * f, j = 0;
            FloatVector s = FloatVector.zero(S);
            for (; j <= f - L; j += L) s = s.add(load(x, o + j));
            float sum = s.reduceLanes(VectorOperators.ADD);
            for (; j < f; j++) sum += x.getFloat(4 * (o + j));
            float mu = sum / f;
            FloatVector v = FloatVector.zero(S);
            j = 0;
            for (; j <= f - L; j += L) { FloatVector d = load(x, o + j).sub(mu); v = d.fma(d, v); }
            float var = v.reduceLanes(VectorOperators.ADD);
            for (; j < f; j++) { float d = x.getFloat(4 * (o + j)) - mu; var += d * d; }
            float rs = (float) (1.0 / Math.sqrt(var / f + eps));
            j = 0;
            for (; j <= f - L; j += L) {
                FloatVector xh = load(x, o + j).sub(mu).mul(rs);
                store(xh.fma(FloatVector.fromArray(S, g, j), FloatVector.fromArray(S, b, j)), out, o + j);
            }
            for (; j < f; j++) out.putFloat(4 * (o + j), (x.getFloat(4 * (o + j)) - mu) * rs * g[j] + b[j]);
            mean.putFloat(4 * r, mu);
            rstd.putFloat(4 * r, rs);
        }
    }

    /** LayerNorm backward of rows [r0, r1): dx += ...; dg, db (float partial sums of this range) +=. */
    static void layerNormBackward(ByteBuffer dout, ByteBuffer x, ByteBuffer mean, ByteBuffer rstd, float[] g, ByteBuffer dx,
                                  float[] dg, float[] db, int f, int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int o = r * f, j = 0;
            float mu = mean.getFloat(4 * r), rs = rstd.getFloat(4 * r);
            FloatVector sd = FloatVector.zero(S), sdx = FloatVector.zero(S);
            for (; j <= f - L; j += L) {
                FloatVector xh = load(x, o + j).sub(mu).mul(rs);
                FloatVector d = load(dout, o + j);
                FloatVector dxh = d.mul(FloatVector.fromArray(S, g, j));
                sd = sd.add(dxh);
                sdx = dxh.fma(xh, sdx);
                d.fma(xh, FloatVector.fromArray(S, dg, j)).intoArray(dg, j);
                d.add(FloatVector.fromArray(S, db, j)).intoArray(db, j);
            }
            float sumD = sd.reduceLanes(VectorOperators.ADD), sumDX = sdx.reduceLanes(VectorOperators.ADD);
            for (; j < f; j++) {
                float xh = (x.getFloat(4 * (o + j)) - mu) * rs, d = dout.getFloat(4 * (o + j)), dxh = d * g[j];
                sumD += dxh; sumDX += dxh * xh; dg[j] += d * xh; db[j] += d;
            }
            float mD = sumD / f, mDX = sumDX / f;
            j = 0;
            for (; j <= f - L; j += L) {
                FloatVector xh = load(x, o + j).sub(mu).mul(rs);
                FloatVector dxh = load(dout, o + j).mul(FloatVector.fromArray(S, g, j));
                FloatVector r1v = dxh.sub(mD).sub(xh.mul(mDX)).mul(rs);
                store(load(dx, o + j).add(r1v), dx, o + j);
            }
            for (; j < f; j++) {
                float xh = (x.getFloat(4 * (o + j)) - mu) * rs, dxh = dout.getFloat(4 * (o + j)) * g[j];
                dx.putFloat(4 * (o + j), dx.getFloat(4 * (o + j)) + rs * (dxh - mD - xh * mDX));
            }
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
    static void adamw(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, float decay, float b1, float b2, float c1, float c2,
                      float step, float rsb2, float eps, int from, int to) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector gi = load(g, i);
            FloatVector mi = load(m, i).mul(b1).add(gi.mul(c1));
            FloatVector vi = load(v, i).mul(b2).add(gi.mul(gi).mul(c2));
            store(mi, m, i);
            store(vi, v, i);
            FloatVector denom = vi.sqrt().mul(rsb2).add(eps);
            store(load(p, i).mul(decay).sub(mi.mul(step).div(denom)), p, i);
        }
        for (; i < to; i++) {
            float gi = g.getFloat(4 * i);
            float mi = b1 * m.getFloat(4 * i) + c1 * gi, vi = b2 * v.getFloat(4 * i) + c2 * gi * gi;
            m.putFloat(4 * i, mi);
            v.putFloat(4 * i, vi);
            p.putFloat(4 * i, p.getFloat(4 * i) * decay - step * mi / ((float) Math.sqrt(vi) * rsb2 + eps));
        }
    }

    /** Softmax of s[off .. off+t) in place. */
    static void softmaxRow(float[] s, int off, int t) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < t; j++) max = Math.max(max, s[off + j]);
        int j = 0;
        FloatVector sum = FloatVector.zero(S);
        for (; j <= t - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, s, off + j).sub(max).lanewise(VectorOperators.EXP);
            v.intoArray(s, off + j);
            sum = sum.add(v);
        }
        float total = sum.reduceLanes(VectorOperators.ADD);
        for (; j < t; j++) { float e = (float) Math.exp(s[off + j] - max); s[off + j] = e; total += e; }
        float inv = 1f / total;
        j = 0;
        for (; j <= t - L; j += L) FloatVector.fromArray(S, s, off + j).mul(inv).intoArray(s, off + j);
        for (; j < t; j++) s[off + j] *= inv;
    }
}
