package org.mae4j.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The portable path: every kernel written with ND4J operations only, so it runs on any ND4J backend (CUDA
 * included) and for any floating dtype (the double-precision gradient check uses it). Clear rather than
 * fast: intermediate arrays are allocated freely. Shaped for a GPU: no method loops over rows, samples or
 * heads, so a training step issues the same number of ND4J operations (kernel launches) at any batch size
 * (PortableOpCountTest): attention is batched matrix products over [N*H, T, hd], row copies are one gather
 * and one scatter (or segment sum).
 */
public final class Nd4jKernels implements Kernels {

    /** For provenance records: the portable path and the ND4J backend it runs on. */
    @Override
    public String toString() { return "Nd4jKernels (portable ND4J ops, backend " + Nd4j.getBackend().getClass().getSimpleName() + ")"; }

    private static long rows(INDArray a) { return a.rank() == 1 ? 1 : a.length() / a.size(-1); }
    private static INDArray col(INDArray v) { return v.reshape(v.length(), 1); }
    private static INDArray row(INDArray v) { return v.reshape(1, v.length()); }

    @Override
    public void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
    }

    @Override
    public void addRowVector(INDArray y, INDArray bias) { y.addiRowVector(row(bias)); }

    @Override
    public void sumRowsInto(INDArray x, INDArray acc) { acc.addi(x.sum(0).reshape(acc.shape())); }

    @Override
    public void copy(INDArray src, INDArray dst) { dst.assign(src.reshape(dst.shape())); }

    @Override
    public void copyRows(INDArray src, int[] srcRows, INDArray dst, int[] dstRows, boolean accumulate) {
        if (srcRows.length != dstRows.length) throw new IllegalArgumentException("copyRows: " + srcRows.length + " vs " + dstRows.length + " rows");
        if (src.size(-1) != dst.size(-1)) throw new IllegalArgumentException("copyRows: rows of " + src.size(-1) + " vs " + dst.size(-1) + " values");
        checkRows("source", srcRows, rows(src));
        checkRows("destination", dstRows, rows(dst));
        if (srcRows.length == 0) return;
        // a 2-D dst is written as it is (a reshape of a strided view would be a copy); vectors are [1, F] views
        INDArray s = src.rank() == 2 ? src : src.reshape('c', rows(src), src.size(-1));
        INDArray d = dst.rank() == 2 ? dst : dst.reshape('c', rows(dst), dst.size(-1));
        if (accumulate) {
            // A segment sum adds up repeated destination rows by construction; a scatter-add of repeated rows
            // races on parallel backends unless it is serialised.
            INDArray sums = Nd4j.create(d.dataType(), d.shape());
            Nd4j.exec(DynamicCustomOp.builder("unsorted_segment_sum").addInputs(gather(s, srcRows), Nd4j.createFromArray(dstRows))
                    .addOutputs(sums).addIntegerArguments(d.size(0)).build());
            d.addi(sums);
        } else {
            // "In order of i": the last write to a row wins. Only the winners are scattered, so that the
            // scatter's own order (unspecified on a GPU) cannot matter.
            int[][] last = lastWrites(srcRows, dstRows, (int) d.size(0));
            INDArray rowsIn = gather(s, last[0]);
            Nd4j.exec(DynamicCustomOp.builder("scatter_upd").addInputs(d, Nd4j.createFromArray(last[1]), rowsIn).addOutputs(d).build());
        }
    }

    private static void checkRows(String what, int[] rows, long count) {
        for (int r : rows) {
            if (r < 0 || r >= count) throw new IllegalArgumentException("copyRows: " + what + " row " + r + " outside [0, " + count + ")");
        }
    }

    /** {@code src[rows[i], :]} for every i, as one gather: [rows.length, F]. */
    private static INDArray gather(INDArray src, int[] rows) {
        INDArray out = Nd4j.create(src.dataType(), rows.length, src.size(1));
        Nd4j.exec(DynamicCustomOp.builder("gather").addInputs(src, Nd4j.createFromArray(rows)).addOutputs(out).addIntegerArguments(0).build());
        return out;
    }

    /** The (source, destination) pairs whose destination row is not written again later, in order of i. */
    private static int[][] lastWrites(int[] srcRows, int[] dstRows, int dstCount) {
        boolean[] taken = new boolean[dstCount];
        int kept = 0;
        boolean[] keep = new boolean[dstRows.length];
        for (int i = dstRows.length - 1; i >= 0; i--) {
            if (!taken[dstRows[i]]) { taken[dstRows[i]] = true; keep[i] = true; kept++; }
        }
        if (kept == dstRows.length) return new int[][] {srcRows, dstRows};
        int[] s = new int[kept], d = new int[kept];
        for (int i = 0, j = 0; i < dstRows.length; i++) if (keep[i]) { s[j] = srcRows[i]; d[j++] = dstRows[i]; }
        return new int[][] {s, d};
    }

    @Override
    public void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray out, INDArray mean, INDArray rstd) {
        INDArray mu = x.mean(1);
        INDArray xc = x.subColumnVector(col(mu));
        INDArray rs = Transforms.pow(xc.mul(xc).mean(1).addi(eps), -0.5, false);
        out.assign(xc.mulColumnVector(col(rs)).muliRowVector(row(gamma)).addiRowVector(row(beta)));
        mean.assign(mu.reshape(mean.shape()));
        rstd.assign(rs.reshape(rstd.shape()));
    }

    @Override
    public void layerNormBackward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray gamma,
                                  INDArray dx, INDArray dgamma, INDArray dbeta) {
        INDArray xhat = x.subColumnVector(col(mean)).muliColumnVector(col(rstd));
        INDArray dxhat = dout.mulRowVector(row(gamma));
        INDArray mD = dxhat.mean(1), mDX = dxhat.mul(xhat).mean(1);
        INDArray g = dxhat.subColumnVector(col(mD)).subi(xhat.mulColumnVector(col(mDX))).muliColumnVector(col(rstd));
        dx.addi(g);
        dgamma.addi(dout.mul(xhat).sum(0).reshape(dgamma.shape()));
        dbeta.addi(dout.sum(0).reshape(dbeta.shape()));
    }

    private static INDArray cdf(INDArray x) {
        INDArray e = x.mul(1 / Math.sqrt(2));
        Nd4j.exec(new Erf(e, e));
        return e.addi(1).muli(0.5);
    }

    @Override
    public void gelu(INDArray x, INDArray out) { out.assign(x.mul(cdf(x))); }

    @Override
    public void geluBackward(INDArray x, INDArray dout, INDArray dx) {
        INDArray pdf = Transforms.exp(x.mul(x).muli(-0.5), false).muli(1 / Math.sqrt(2 * Math.PI));
        dx.assign(dout.mul(cdf(x).addi(x.mul(pdf))));
    }

    /**
     * q, k, v of every (sample, head) as three [N*H, T, hd] arrays: qkv [N*T, 3W] read as [N, T, 3, H, hd] and
     * moved to [3, N, H, T, hd] by one copy.
     */
    private static INDArray[] heads(INDArray qkv, int n, int t, int heads, long hd) {
        INDArray all = qkv.reshape('c', n, t, 3, heads, hd).permute(2, 0, 3, 1, 4).dup('c').reshape('c', 3, (long) n * heads, t, hd);
        return new INDArray[] {all.slice(0), all.slice(1), all.slice(2)};
    }

    /** rows [N*T, W] (column h*hd + e) seen as [N, H, T, hd]: a strided view, no copy. */
    private static INDArray byHead(INDArray rows, int n, int t, int heads, long hd) {
        return rows.reshape('c', n, t, heads, hd).permute(0, 2, 1, 3);
    }

    @Override
    public void attention(INDArray qkv, int n, int t, int heads, INDArray out, INDArray probs) {
        long w = out.size(-1), hd = w / heads;
        INDArray[] qkvh = heads(qkv, n, t, heads, hd);
        INDArray s = Nd4j.matmul(qkvh[0], qkvh[1], null, false, true, false).muli(1 / Math.sqrt(hd));   // [N*H, T, T]
        INDArray p = probs.reshape('c', (long) n * heads, t, t);   // a view: probs is contiguous
        Nd4j.exec((CustomOp) new SoftMax(s, p, 2));
        INDArray o = Nd4j.matmul(p, qkvh[2]);                        // [N*H, T, hd]
        byHead(out, n, t, heads, hd).assign(o.reshape('c', n, heads, t, hd));
    }

    @Override
    public void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int t, int heads, INDArray dqkv) {
        long w = dout.size(-1), hd = w / heads, nh = (long) n * heads;
        double scale = 1 / Math.sqrt(hd);
        INDArray[] qkvh = heads(qkv, n, t, heads, hd);
        INDArray p = probs.reshape('c', nh, t, t);
        INDArray dO = byHead(dout, n, t, heads, hd).dup('c').reshape('c', nh, t, hd);
        INDArray dP = Nd4j.matmul(dO, qkvh[2], null, false, true, false);   // [N*H, T, T]
        // softmax backward per row of P: dS = (dP - rowsum(P * dP)) * P, rows as a [N*H*T, T] matrix
        INDArray dP2 = dP.reshape('c', nh * t, t), p2 = probs.reshape('c', nh * t, t);
        dP2.subiColumnVector(p2.mul(dP2).sum(1).reshape(nh * t, 1)).muli(p2).muli(scale);
        INDArray grads = dqkv.reshape('c', n, t, 3, heads, hd).permute(2, 0, 3, 1, 4);   // [3, N, H, T, hd] view
        grads.slice(0).assign(Nd4j.matmul(dP, qkvh[1]).reshape('c', n, heads, t, hd));
        grads.slice(1).assign(Nd4j.matmul(dP, qkvh[0], null, true, false, false).reshape('c', n, heads, t, hd));
        grads.slice(2).assign(Nd4j.matmul(p, dO, null, true, false, false).reshape('c', n, heads, t, hd));
    }

    @Override
    public void standardizeRows(INDArray x, double eps, INDArray out) {
        long f = x.size(-1);
        if (f < 2) throw new IllegalArgumentException("standardizeRows needs rows of at least 2 values, got " + f);
        INDArray xc = x.subColumnVector(col(x.mean(1)));
        INDArray rs = Transforms.pow(xc.mul(xc).sum(1).divi(f - 1).addi(eps), -0.5, false);
        out.assign(xc.muliColumnVector(col(rs)));
    }

    @Override
    public double weightedRowMse(INDArray pred, INDArray target, INDArray w, INDArray dpred) {
        long f = pred.size(-1);
        INDArray d = pred.sub(target);
        double loss = d.mul(d).mean(1).muli(w.reshape(rows(pred))).sumNumber().doubleValue();
        dpred.assign(d.muliColumnVector(col(w).mul(2.0 / f)));
        return loss;
    }

    @Override
    public void load(double[] src, INDArray dst) {
        if (src.length != dst.length()) throw new IllegalArgumentException("load: " + src.length + " values into an array of " + dst.length());
        dst.assign(Nd4j.createFromArray(src).castTo(dst.dataType()).reshape(dst.shape()));
    }

    @Override
    public void zero(INDArray x) { x.assign(0); }

}
