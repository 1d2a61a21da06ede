package org.mae4j.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The portable path: every kernel written with ND4J operations only, so it runs on any ND4J backend (CUDA
 * included) and for any floating dtype (the double-precision gradient check uses it). Clear rather than
 * fast: intermediate arrays are allocated freely, attention loops over (sample, head).
 */
public final class Nd4jKernels implements Kernels {

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
        for (int i = 0; i < srcRows.length; i++) {
            INDArray d = dst.getRow(dstRows[i]), s = src.getRow(srcRows[i]);
            if (accumulate) d.addi(s); else d.assign(s);
        }
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

    private static INDArray head(INDArray m, long r0, long t, long c0, long w) {
        return m.get(NDArrayIndex.interval(r0, r0 + t), NDArrayIndex.interval(c0, c0 + w));
    }

    @Override
    public void attention(INDArray qkv, int n, int t, int heads, INDArray out, INDArray probs) {
        long w = out.size(-1), hd = w / heads;
        double scale = 1 / Math.sqrt(hd);
        for (int b = 0; b < n; b++) {
            for (int h = 0; h < heads; h++) {
                long r0 = (long) b * t;
                INDArray q = head(qkv, r0, t, h * hd, hd), k = head(qkv, r0, t, w + h * hd, hd), v = head(qkv, r0, t, 2 * w + h * hd, hd);
                INDArray s = q.mmul(k.transpose()).muli(scale);
                INDArray p = Transforms.exp(s.subColumnVector(s.max(1).reshape(t, 1)), false);
                p.diviColumnVector(p.sum(1).reshape(t, 1));
                probs.get(NDArrayIndex.interval(((long) b * heads + h) * t, ((long) b * heads + h + 1) * t), NDArrayIndex.all()).assign(p);
                head(out, r0, t, h * hd, hd).assign(p.mmul(v));
            }
        }
    }

    @Override
    public void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int t, int heads, INDArray dqkv) {
        long w = dout.size(-1), hd = w / heads;
        double scale = 1 / Math.sqrt(hd);
        for (int b = 0; b < n; b++) {
            for (int h = 0; h < heads; h++) {
                long r0 = (long) b * t;
                INDArray q = head(qkv, r0, t, h * hd, hd), k = head(qkv, r0, t, w + h * hd, hd), v = head(qkv, r0, t, 2 * w + h * hd, hd);
                INDArray p = probs.get(NDArrayIndex.interval(((long) b * heads + h) * t, ((long) b * heads + h + 1) * t), NDArrayIndex.all());
                INDArray dO = head(dout, r0, t, h * hd, hd);
                INDArray dP = dO.mmul(v.transpose());
                INDArray dS = dP.subColumnVector(p.mul(dP).sum(1).reshape(t, 1)).muli(p).muli(scale);
                head(dqkv, r0, t, h * hd, hd).assign(dS.mmul(k));
                head(dqkv, r0, t, w + h * hd, hd).assign(dS.transpose().mmul(q));
                head(dqkv, r0, t, 2 * w + h * hd, hd).assign(p.transpose().mmul(dO));
            }
        }
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
