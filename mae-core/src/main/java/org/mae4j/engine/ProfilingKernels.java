package org.mae4j.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.EnumMap;
import java.util.Map;

/**
 * Wraps another {@link Kernels} and adds up the wall time spent in each kind of operation, for the
 * benchmark's breakdown ({@code ./mae bench --profile}). Costs two clock reads per call.
 */
public final class ProfilingKernels implements Kernels {

    /** The operations timed separately. */
    public enum Op { GEMM, BIAS, COLSUM, COPY, ROWS, LAYERNORM, LAYERNORM_BWD, GELU, GELU_BWD, ATTENTION, ATTENTION_BWD, LOSS, OPTIMIZER, OTHER }

    private final Kernels inner;
    private final long[] nanos = new long[Op.values().length];
    private final long[] calls = new long[Op.values().length];

    public ProfilingKernels(Kernels inner) { this.inner = inner; }

    @Override
    public String toString() { return "ProfilingKernels over " + inner; }

    /** The kernels being timed. */
    public Kernels inner() { return inner; }

    private void add(Op op, long t0) { nanos[op.ordinal()] += System.nanoTime() - t0; calls[op.ordinal()]++; }

    /** Seconds per operation since the last reset, in declaration order. */
    public Map<Op, Double> seconds() {
        Map<Op, Double> m = new EnumMap<>(Op.class);
        for (Op op : Op.values()) m.put(op, nanos[op.ordinal()] / 1e9);
        return m;
    }

    public long calls(Op op) { return calls[op.ordinal()]; }

    public void reset() { java.util.Arrays.fill(nanos, 0); java.util.Arrays.fill(calls, 0); }

    @Override public void gemm(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        long t = System.nanoTime(); inner.gemm(a, ta, b, tb, c, alpha, beta); add(Op.GEMM, t);
    }
    @Override public void linear(INDArray x, INDArray w, INDArray y, double beta, INDArray bias) {
        long t = System.nanoTime(); inner.linear(x, w, y, beta, bias); add(Op.GEMM, t);
    }
    @Override public void gemmTimes(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, INDArray mul) {
        long t = System.nanoTime(); inner.gemmTimes(a, ta, b, tb, c, mul); add(Op.GEMM, t);
    }
    @Override public void addRowVector(INDArray y, INDArray bias) { long t = System.nanoTime(); inner.addRowVector(y, bias); add(Op.BIAS, t); }
    @Override public void sumRowsInto(INDArray x, INDArray acc) { long t = System.nanoTime(); inner.sumRowsInto(x, acc); add(Op.COLSUM, t); }
    @Override public void copy(INDArray src, INDArray dst) { long t = System.nanoTime(); inner.copy(src, dst); add(Op.COPY, t); }
    @Override public void copyRows(INDArray src, int[] sr, INDArray dst, int[] dr, boolean acc) {
        long t = System.nanoTime(); inner.copyRows(src, sr, dst, dr, acc); add(Op.ROWS, t);
    }
    @Override public void layerNorm(INDArray x, INDArray g, INDArray b, double eps, INDArray out, INDArray mean, INDArray rstd) {
        long t = System.nanoTime(); inner.layerNorm(x, g, b, eps, out, mean, rstd); add(Op.LAYERNORM, t);
    }
    @Override public void layerNormBackward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray g, INDArray dx, INDArray dg, INDArray db) {
        long t = System.nanoTime(); inner.layerNormBackward(dout, x, mean, rstd, g, dx, dg, db); add(Op.LAYERNORM_BWD, t);
    }
    @Override public void gelu(INDArray x, INDArray out) { long t = System.nanoTime(); inner.gelu(x, out); add(Op.GELU, t); }
    @Override public void biasGeluWithDerivative(INDArray h, INDArray bias, INDArray g) {
        long t = System.nanoTime(); inner.biasGeluWithDerivative(h, bias, g); add(Op.GELU, t);
    }
    @Override public void multiply(INDArray a, INDArray b, INDArray out) { long t = System.nanoTime(); inner.multiply(a, b, out); add(Op.GELU_BWD, t); }
    @Override public void adamw(INDArray p, INDArray g, INDArray m, INDArray v, double lr, double wd, double b1, double b2, double eps, double bc1, double bc2) {
        long t = System.nanoTime(); inner.adamw(p, g, m, v, lr, wd, b1, b2, eps, bc1, bc2); add(Op.OPTIMIZER, t);
    }
    @Override public void geluBackward(INDArray x, INDArray dout, INDArray dx) { long t = System.nanoTime(); inner.geluBackward(x, dout, dx); add(Op.GELU_BWD, t); }
    @Override public void attention(INDArray qkv, int n, int tt, int heads, INDArray out, INDArray probs) {
        long t = System.nanoTime(); inner.attention(qkv, n, tt, heads, out, probs); add(Op.ATTENTION, t);
    }
    @Override public void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int tt, int heads, INDArray dqkv) {
        long t = System.nanoTime(); inner.attentionBackward(dout, qkv, probs, n, tt, heads, dqkv); add(Op.ATTENTION_BWD, t);
    }
    @Override public void standardizeRows(INDArray x, double eps, INDArray out) { long t = System.nanoTime(); inner.standardizeRows(x, eps, out); add(Op.LOSS, t); }
    @Override public double weightedRowMse(INDArray p, INDArray tg, INDArray w, INDArray d) {
        long t = System.nanoTime(); double r = inner.weightedRowMse(p, tg, w, d); add(Op.LOSS, t); return r;
    }
    @Override public void load(double[] src, INDArray dst) { long t = System.nanoTime(); inner.load(src, dst); add(Op.OTHER, t); }
    @Override public void patchify(INDArray images, int p, INDArray out, boolean channelsFirst) {
        long t = System.nanoTime(); inner.patchify(images, p, out, channelsFirst); add(Op.ROWS, t);
    }
    @Override public void zero(INDArray x) { long t = System.nanoTime(); inner.zero(x); add(Op.OTHER, t); }
    @Override public void scaleRowGroups(INDArray src, float[] scale, INDArray dst, boolean acc) {
        long t = System.nanoTime(); inner.scaleRowGroups(src, scale, dst, acc); add(Op.OTHER, t);
    }
    @Override public double sumOfSquares(INDArray x) { long t = System.nanoTime(); double r = inner.sumOfSquares(x); add(Op.OTHER, t); return r; }
}
