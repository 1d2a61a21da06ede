package org.mae4j.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The arithmetic the layers need, behind one small interface so that one model runs on two paths:
 * {@link Nd4jKernels} (ND4J ops only: any backend, any floating dtype) and {@link CpuKernels} (the CPU fast
 * path: float32, Java loops over the arrays' own memory). Both must agree within float rounding.
 *
 * <p>Conventions: every matrix is a row-major ('c' order), contiguous 2-D array {@code [rows, cols]};
 * vectors are contiguous 1-D (or {@code [1, n]}). Outputs are preallocated by the caller; "+=" in a
 * method's doc means it accumulates into what is there, otherwise it overwrites. No method allocates
 * arrays that outlive the call.
 */
public interface Kernels {

    /** {@code c = alpha * op(a) * op(b) + beta * c}, op = transpose when the flag is set. */
    void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta);

    /**
     * A linear layer's forward: {@code y = x w^T + beta * y + bias} (beta 0 or 1); x [R, in], w [out, in], y [R, out],
     * bias [out]. Equal bit for bit to {@link #gemm} followed by {@link #addRowVector}; a kernel may add the bias
     * while the product's tile is still in registers instead of in a second pass over y.
     */
    default void linear(INDArray x, INDArray w, INDArray y, double beta, INDArray bias) {
        gemm(x, false, w, true, y, 1, beta);
        addRowVector(y, bias);
    }

    /**
     * {@code c = (op(a) op(b)) * mul} element-wise, mul [M, N] laid out as c (a gradient times a saved derivative).
     * Equal bit for bit to {@link #gemm} (alpha 1, beta 0) followed by {@link #multiply}; a kernel may multiply
     * while the product's tile is still in registers.
     */
    default void gemmTimes(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, INDArray mul) {
        gemm(a, transA, b, transB, c, 1, 0);
        multiply(c, mul, c);
    }

    /** {@code y[r, :] += bias} for every row r; y [R, F], bias [F]. */
    void addRowVector(INDArray y, INDArray bias);

    /** {@code acc[f] += sum_r x[r, f]}; x [R, F], acc [F]. */
    void sumRowsInto(INDArray x, INDArray acc);

    /** {@code dst = src}, same shape. */
    void copy(INDArray src, INDArray dst);

    /** {@code dst[dstRows[i], :] = src[srcRows[i], :]} (or {@code +=} when accumulate) for every i, in order of i;
     *  src [Rs, F], dst [Rd, F]. With accumulate, repeated destination rows add up. */
    void copyRows(INDArray src, int[] srcRows, INDArray dst, int[] dstRows, boolean accumulate);

    /** LayerNorm over the last dim with biased variance: {@code out = (x - mean) * rstd * gamma + beta};
     *  x, out [R, F]; gamma, beta [F]; saves mean [R] and rstd = 1/sqrt(var + eps) [R] for the backward. */
    void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray out, INDArray mean, INDArray rstd);

    /** Backward of {@link #layerNorm}: {@code dx +=}, {@code dgamma +=}, {@code dbeta +=}; x is the forward input. */
    void layerNormBackward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray gamma,
                           INDArray dx, INDArray dgamma, INDArray dbeta);

    /** Exact GELU, {@code out = 0.5 x (1 + erf(x / sqrt 2))}; out may be x. */
    void gelu(INDArray x, INDArray out);

    /**
     * The MLP's bias and activation in one pass, keeping what the backward needs: on exit
     * {@code g = gelu(h + bias)} and, in place, {@code h = gelu'(h + bias)}. h, g [R, F]; bias [F].
     * The backward is then one {@link #multiply}; the derivative shares its exp with the forward.
     */
    default void biasGeluWithDerivative(INDArray h, INDArray bias, INDArray g) {
        addRowVector(h, bias);
        gelu(h, g);
        geluBackward(h, h.ulike().assign(1), h);
    }

    /** {@code out = a * b} element-wise; out may be a or b. */
    default void multiply(INDArray a, INDArray b, INDArray out) {
        out.assign(a.mul(b));
    }

    /** {@code dx = dout * gelu'(x)}; dx may be dout. */
    void geluBackward(INDArray x, INDArray dout, INDArray dx);

    /**
     * Multi-head self-attention on a fused qkv buffer, no mask: per sample and head h,
     * {@code P = softmax(q_h k_h^T / sqrt(hd))}, {@code out[:, h*hd + e] = (P v_h)[:, e]}.
     * qkv [N*T, 3*W] with column {@code j*W + h*hd + e} (j = 0 q, 1 k, 2 v), out [N*T, W],
     * probs [N*H*T, T] saved for the backward.
     */
    void attention(INDArray qkv, int n, int t, int heads, INDArray out, INDArray probs);

    /** Backward of {@link #attention}: writes (overwrites) dqkv [N*T, 3*W] from dout [N*T, W]. */
    void attentionBackward(INDArray dout, INDArray qkv, INDArray probs, int n, int t, int heads, INDArray dqkv);

    /** Per row, standardise over the row with the UNBIASED variance: {@code out = (x - mean) / sqrt(var + eps)}. */
    void standardizeRows(INDArray x, double eps, INDArray out);

    /**
     * Weighted mean squared error over rows: returns {@code sum_r w[r] * mean_f (pred[r,f] - target[r,f])^2}
     * and writes its gradient {@code dpred = 2 w[r] (pred - target) / F}. pred, target, dpred [R, F]; w [R].
     */
    double weightedRowMse(INDArray pred, INDArray target, INDArray w, INDArray dpred);

    /**
     * Per-group row scaling, for drop path (one group per sample) and gradient clipping (one group):
     * {@code dst[r, :] = scale[r / G] * src[r, :]} (or {@code +=} when accumulate), G = rows / scale.length
     * consecutive rows per group. src, dst [R, F] of the same shape (dst may be src); R divisible by scale.length.
     */
    default void scaleRowGroups(INDArray src, float[] scale, INDArray dst, boolean accumulate) {
        if (src.length() != dst.length()) throw new IllegalArgumentException("scaleRowGroups: lengths " + src.length() + " vs " + dst.length());
        if (scale.length == 0 || src.length() % scale.length != 0) {
            throw new IllegalArgumentException("scaleRowGroups: " + src.length() + " values do not split into " + scale.length + " groups");
        }
        long per = src.length() / scale.length;
        INDArray s = src.reshape('c', scale.length, per), d = dst.reshape('c', scale.length, per);
        INDArray col = org.nd4j.linalg.factory.Nd4j.createFromArray(scale).castTo(src.dataType()).reshape(scale.length, 1);
        INDArray prod = s.mulColumnVector(col);
        if (accumulate) d.addi(prod); else d.assign(prod);
    }

    /** {@code sum_i x[i]^2}, accumulated in double. */
    default double sumOfSquares(INDArray x) {
        INDArray d = x.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        return d.mul(d).sumNumber().doubleValue();
    }

    /** Copies host values in: {@code dst[i] = src[i]} over dst in row-major order; lengths must match. */
    void load(double[] src, INDArray dst);

    /** Sets every element to zero. */
    void zero(INDArray x);

    /**
     * Cuts images [N, C, H, W] into patch rows out [N*L, p*p*C], patch l = r*(W/p) + q. Vector order
     * (p_row, p_col, c) (the loss target, the reference's {@code patchify}), or with channelsFirst
     * (c, p_row, p_col) (the patch-embedding input, the layout of its convolution kernel).
     */
    default void patchify(INDArray images, int p, INDArray out, boolean channelsFirst) {
        long n = images.size(0), c = images.size(1), h = images.size(2) / p, w = images.size(3) / p;
        INDArray src = images.reshape('c', n, c, h, p, w, p);
        if (channelsFirst) out.reshape('c', n, h, w, c, p, p).assign(src.permute(0, 2, 4, 1, 3, 5));
        else out.reshape('c', n, h, w, p, p, c).assign(src.permute(0, 2, 4, 3, 5, 1));
    }

    /**
     * One AdamW update of a parameter range, exactly as the reference (decoupled decay first):
     * {@code p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)}
     * with bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t computed by the caller in double. All arrays same length.
     */
    default void adamw(INDArray p, INDArray g, INDArray m, INDArray v, double lr, double wd,
                       double b1, double b2, double eps, double bc1, double bc2) {
        if (wd != 0) p.muli(1 - lr * wd);
        m.muli(b1).addi(g.mul(1 - b1));
        v.muli(b2).addi(g.mul(g).muli(1 - b2));
        INDArray denom = org.nd4j.linalg.ops.transforms.Transforms.sqrt(v, true).divi(Math.sqrt(bc2)).addi(eps);
        p.subi(m.div(denom).muli(lr / bc1));
    }
}
