package org.mae4j.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.nio.FloatBuffer;

/**
 * Single-precision matrix product in Java with 512-bit vectors, for CPUs with AVX-512. Why not OpenBLAS:
 * on machines where OPENBLAS_CORETYPE pins OpenBLAS to its Haswell (AVX2) kernels, as on ours, OpenBLAS
 * peaks near 97 GFLOP/s per core while 16-lane FMAs from Java reach about 200 (measured; see
 * docs/performance.md). Structure (Goto/BLIS): for each block of kc steps of the shared dimension and nc
 * columns, B is packed into panels of NR = 32 columns, A into panels of MR = 6 rows, and a 6 x 32 register
 * tile (12 accumulators) runs over the kc steps. Each thread works on its own rows of C.
 *
 * <p>Every vector load and store is on a heap array ({@code fromArray}/{@code intoArray}): those are the only
 * memory accesses the Vector API has in every release from 17 on (JDK 20 replaced the ByteBuffer ones with
 * MemorySegment ones, which are a preview API on 21). C reaches the heap a group of rows at a time: GROUP
 * panels of MR rows are copied in (when the product adds to C) and out in bulk, whole rows of nc values per
 * copy, so the copies cost a few per cent of the product at most (docs/performance.md).
 */
final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    static final int MR = 6, NR = 32, KC = 256, NC = 512;
    /** Panels of MR rows per heap group of C: 48 rows (at most 96 KB), and each packed B panel is reused 8 times from L1. */
    static final int GROUP = 8;

    private VectorGemm() {}

    /** Whether this JVM's preferred vectors are 512 bits wide (where this beats OpenBLAS's AVX2 kernels). */
    static boolean worthIt() { return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512; }

    /** Per-thread packing buffers. */
    static final class Packs {
        final float[] a = new float[MR * KC * 64], b = new float[KC * NC];
        final float[] tile = new float[MR * NR];
        final float[] row = new float[Math.max(KC, MR * 64)];   // one source row, read in bulk before it is interleaved into a panel
        final float[] c = new float[MR * GROUP * NC];            // a group of C's rows on the heap, row stride nc
        private float[] mul;                                     // the multiplier's rows beside them, made at the first gemmTimes

        float[] mul() { if (mul == null) mul = new float[MR * GROUP * NC]; return mul; }
    }

    /**
     * C[i0..i1) rows of {@code c = alpha op(a) op(b) + beta c}; op(a) [m, k], op(b) [k, n]; leading dims are
     * the stored row lengths; all three read and written through FloatBuffers (ND4J's off-heap memory).
     */
    static void gemmRows(FloatBuffer a, int lda, boolean ta, FloatBuffer b, int ldb, boolean tb, FloatBuffer c, int ldc,
                         int i0, int i1, int n, int k, float alpha, float beta, Packs p) {
        gemmRows(a, lda, ta, b, ldb, tb, c, ldc, i0, i1, n, k, alpha, beta, null, null, p);
    }

    /**
     * As above, then {@code c[i, :] += bias} (bias [n], or null for none) and then {@code c *= mul} element-wise
     * (mul laid out as c, or null), both in the product's last store of each tile, with the roundings of separate passes.
     */
    static void gemmRows(FloatBuffer a, int lda, boolean ta, FloatBuffer b, int ldb, boolean tb, FloatBuffer c, int ldc,
                         int i0, int i1, int n, int k, float alpha, float beta, float[] bias, FloatBuffer mul, Packs p) {
        float[] hc = p.c;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float bt = pc == 0 ? beta : 1f;
                boolean last = pc + kc == k;   // bias and multiplier after the last block of K, as passes after the product would
                float[] bs = last ? bias : null;
                float[] hm = last && mul != null ? p.mul() : null;
                packB(b, ldb, tb, pc, kc, jc, nc, p.b, p.row);
                for (int ic = i0; ic < i1; ic += MR * 64) {
                    int mc = Math.min(MR * 64, i1 - ic);
                    packA(a, lda, ta, ic, mc, pc, kc, p.a, p.row);
                    for (int ig = 0; ig < mc; ig += MR * GROUP) {
                        int mg = Math.min(MR * GROUP, mc - ig), r0 = ic + ig;
                        // the kernel reads C only when it adds to it; otherwise it writes every value of the group
                        if (bt != 0f) copy(c, ldc, r0, jc, mg, nc, hc, true);
                        if (hm != null) copy(mul, ldc, r0, jc, mg, nc, hm, true);
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            for (int ir = ig; ir < ig + mg; ir += MR) {
                                int mr = Math.min(MR, mc - ir);
                                kernel(p.a, (ir / MR) * MR * kc, p.b, (jr / NR) * NR * kc, kc, hc, nc, (ir - ig) * nc + jr, jc + jr,
                                        mr, nr, alpha, bt, bs, hm, p.tile);
                            }
                        }
                        copy(c, ldc, r0, jc, mg, nc, hc, false);
                    }
                }
            }
        }
    }

    /**
     * Rows [r0, r0+mg), columns [jc, jc+nc) of the off-heap matrix m (row stride ld) to or from the heap group h
     * (row stride nc): one bulk copy when those rows are contiguous in m, else one per row.
     */
    private static void copy(FloatBuffer m, int ld, int r0, int jc, int mg, int nc, float[] h, boolean in) {
        if (nc == ld) {
            if (in) m.get(r0 * ld + jc, h, 0, mg * nc); else m.put(r0 * ld + jc, h, 0, mg * nc);
            return;
        }
        for (int r = 0; r < mg; r++) {
            if (in) m.get((r0 + r) * ld + jc, h, r * nc, nc); else m.put((r0 + r) * ld + jc, h, r * nc, nc);
        }
    }

    /** Packs op(b)[pc..pc+kc, jc..jc+nc) into panels of NR columns: panel q, step kk at (q*kc + kk)*NR; zero padded. */
    private static void packB(FloatBuffer b, int ldb, boolean tb, int pc, int kc, int jc, int nc, float[] dst, float[] row) {
        for (int q = 0; q * NR < nc; q++) {
            int j0 = jc + q * NR, w = Math.min(NR, nc - q * NR), base = q * kc * NR;
            if (tb) {
                // op(b) column j is stored row j0+j: one bulk read per row instead of a bounds-checked read per element
                for (int j = 0; j < w; j++) {
                    b.get((j0 + j) * ldb + pc, row, 0, kc);
                    for (int kk = 0; kk < kc; kk++) dst[base + kk * NR + j] = row[kk];
                }
                for (int j = w; j < NR; j++) for (int kk = 0; kk < kc; kk++) dst[base + kk * NR + j] = 0f;
                continue;
            }
            for (int kk = 0; kk < kc; kk++) {
                int o = base + kk * NR;
                if (!tb) {
                    b.get((pc + kk) * ldb + j0, dst, o, w);
                } else {
                    for (int j = 0; j < w; j++) dst[o + j] = b.get((j0 + j) * ldb + pc + kk);
                }
                for (int j = w; j < NR; j++) dst[o + j] = 0f;
            }
        }
    }

    /** Packs op(a)[ic..ic+mc, pc..pc+kc) into panels of MR rows: panel q, step kk at (q*kc + kk)*MR; zero padded. */
    private static void packA(FloatBuffer a, int lda, boolean ta, int ic, int mc, int pc, int kc, float[] dst, float[] row) {
        if (ta) {
            // op(a) row i is stored column i: step kk of all mc rows is one contiguous run, read in bulk
            int panels = (mc + MR - 1) / MR;
            for (int kk = 0; kk < kc; kk++) {
                a.get((pc + kk) * lda + ic, row, 0, mc);
                for (int q = 0; q < panels; q++) {
                    int o = q * kc * MR + kk * MR, h = Math.min(MR, mc - q * MR);
                    for (int r = 0; r < h; r++) dst[o + r] = row[q * MR + r];
                    for (int r = h; r < MR; r++) dst[o + r] = 0f;
                }
            }
            return;
        }
        for (int q = 0; q * MR < mc; q++) {
            int r0 = ic + q * MR, h = Math.min(MR, mc - q * MR), base = q * kc * MR;
            for (int r = 0; r < MR; r++) {
                if (r < h) {
                    // one bulk read of the row (a memory copy), then the interleave on the heap
                    a.get((r0 + r) * lda + pc, row, 0, kc);
                    for (int kk = 0; kk < kc; kk++) dst[base + kk * MR + r] = row[kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) dst[base + kk * MR + r] = 0f;
                }
            }
        }
    }

    /**
     * The 6 x 32 register tile over kc steps, then C = alpha * tile + beta * C on the valid mr x nr part; C and
     * mul are heap groups with row stride ldh, the tile's first value at {@code at}; {@code col} is its column in
     * the whole product (for the bias).
     */
    private static void kernel(float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int ldh, int at, int col,
                               int mr, int nr, float alpha, float beta, float[] bias, float[] mul, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR, ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + 16);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        // Through a small heap tile: handing vectors to another method can box them when it is not inlined.
        c00.intoArray(tile, 0); c01.intoArray(tile, 16); c10.intoArray(tile, 32); c11.intoArray(tile, 48);
        c20.intoArray(tile, 64); c21.intoArray(tile, 80); c30.intoArray(tile, 96); c31.intoArray(tile, 112);
        c40.intoArray(tile, 128); c41.intoArray(tile, 144); c50.intoArray(tile, 160); c51.intoArray(tile, 176);
        if (nr == NR) {
            for (int r = 0; r < mr; r++) {
                int o = at + r * ldh;
                FloatVector v0 = FloatVector.fromArray(S, tile, r * NR), v1 = FloatVector.fromArray(S, tile, r * NR + 16);
                if (alpha != 1f) { v0 = v0.mul(alpha); v1 = v1.mul(alpha); }
                if (beta != 0f) {
                    FloatVector o0 = FloatVector.fromArray(S, c, o), o1 = FloatVector.fromArray(S, c, o + 16);
                    if (beta != 1f) { o0 = o0.mul(beta); o1 = o1.mul(beta); }
                    v0 = v0.add(o0);
                    v1 = v1.add(o1);
                }
                if (bias != null) { v0 = v0.add(FloatVector.fromArray(S, bias, col)); v1 = v1.add(FloatVector.fromArray(S, bias, col + 16)); }
                if (mul != null) { v0 = v0.mul(FloatVector.fromArray(S, mul, o)); v1 = v1.mul(FloatVector.fromArray(S, mul, o + 16)); }
                v0.intoArray(c, o);
                v1.intoArray(c, o + 16);
            }
            return;
        }
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                int o = at + r * ldh + j;
                float v = alpha * tile[r * NR + j];
                v = beta == 0f ? v : v + beta * c[o];
                if (bias != null) v += bias[col + j];
                c[o] = mul == null ? v : v * mul[o];
            }
        }
    }
}
