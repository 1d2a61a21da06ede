package org.mae4j.probe;

import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * The reference's linear-probing head ({@code main_linprobe.py}: {@code model.head = Sequential(BatchNorm1d(D,
 * affine=False, eps=1e-6), Linear(D, classes))}) over any feature rows: encoder tokens, pooled blocks or raw
 * pixels. Its tensors live in a {@link ParamStore} under the reference's state_dict keys, so checkpoints and
 * optimizers see them like any model's: {@code head.1.weight} [classes, D] and {@code head.1.bias} [classes]
 * are trainable; {@code head.0.running_mean} [D], {@code head.0.running_var} [D] and
 * {@code head.0.num_batches_tracked} [] are frozen entries that only train-mode forwards change (the count is
 * a float in the store, exact up to 2^24 batches; the reference's is int64).
 *
 * <p>Train mode normalises with the batch's mean and biased variance and moves the running statistics by
 * momentum 0.1 towards the batch mean and the UNBIASED variance (PyTorch's rule); eval mode normalises with
 * the running statistics. The encoder is frozen, so {@link #backward} stops at the head's parameters (no
 * gradient for the features). Plain Java loops in double (the store may be float or double): a 192-d,
 * 10-class head is ~2k parameters, and a batch of 256 costs ~0.5M multiply-adds each way, far below what
 * ND4J calls would pay for.
 * The head reads its parameters from the store at every forward, so an optimizer or a checkpoint restore
 * acting on the store is seen at once. Not thread-safe.
 */
public final class ProbeHead {
    /** BatchNorm1d's eps in the reference head. */
    public static final double EPS = 1e-6;
    /** PyTorch's default BatchNorm momentum: running = (1 - m) * running + m * batch. */
    public static final double MOMENTUM = 0.1;
    /** Standard deviation of the Linear weight's initialisation ({@code trunc_normal_(std=0.01)}). */
    public static final double INIT_STD = 0.01;

    public static final String RUNNING_MEAN = "head.0.running_mean", RUNNING_VAR = "head.0.running_var",
            NUM_BATCHES = "head.0.num_batches_tracked", WEIGHT = "head.1.weight", BIAS = "head.1.bias";

    private final ParamStore store;
    private final int d, classes;
    // 1-D views into the store: weight [classes*D] row-major, bias [classes], running mean/var [D], count [1]
    private final INDArray wView, bView, gwView, gbView, rmView, rvView, countView;

    // the last forward, for backward() and the accessors
    private int n = -1;
    private boolean lastTrain;
    // in double so that a double store gives double-precision losses and gradients (finite differences)
    private double[] z = new double[0], logits = new double[0], dlogits = new double[0];   // [n, D], [n, classes], [n, classes]
    private float[] logitsOut = new float[0];                                               // [n, classes], what forwardEval returns

    /** Binds a head to a store laid out by {@link #declare} (sizes are read from {@code head.1.weight}). */
    public ProbeHead(ParamStore store) {
        this.store = Objects.requireNonNull(store, "store");
        long[] ws = store.entry(WEIGHT).shape();
        if (ws.length != 2) throw new IllegalArgumentException(WEIGHT + " must be [classes, D], got " + Arrays.toString(ws));
        this.classes = (int) ws[0];
        this.d = (int) ws[1];
        checkShape(store, BIAS, classes);
        checkShape(store, RUNNING_MEAN, d);
        checkShape(store, RUNNING_VAR, d);
        checkShape(store, NUM_BATCHES);
        if (!store.entry(WEIGHT).trainable() || !store.entry(BIAS).trainable()) throw new IllegalArgumentException("the head's Linear must be trainable");
        if (store.entry(RUNNING_MEAN).trainable() || store.entry(RUNNING_VAR).trainable() || store.entry(NUM_BATCHES).trainable()) {
            throw new IllegalArgumentException("the head's BatchNorm statistics must be frozen entries (no optimizer may move them)");
        }
        wView = flat(store.flatParams(), store.entry(WEIGHT));
        bView = flat(store.flatParams(), store.entry(BIAS));
        gwView = flat(store.flatGrads(), store.entry(WEIGHT));
        gbView = flat(store.flatGrads(), store.entry(BIAS));
        rmView = flat(store.flatParams(), store.entry(RUNNING_MEAN));
        rvView = flat(store.flatParams(), store.entry(RUNNING_VAR));
        countView = flat(store.flatParams(), store.entry(NUM_BATCHES));
    }

    private static INDArray flat(INDArray buffer, ParamStore.Entry e) {
        return buffer.get(NDArrayIndex.interval(e.offset(), e.offset() + e.length()));
    }

    private static void checkShape(ParamStore s, String name, long... shape) {
        if (!Arrays.equals(s.entry(name).shape(), shape)) {
            throw new IllegalArgumentException(name + " must have shape " + Arrays.toString(shape) + ", got " + Arrays.toString(s.entry(name).shape()));
        }
    }

    /** Adds the head's five tensors in the reference's state_dict order (running statistics frozen). */
    public static void declare(ParamStore.Builder layout, int d, int classes) {
        if (d < 1) throw new IllegalArgumentException("feature dimension must be >= 1, got " + d);
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
        layout.add(RUNNING_MEAN, false, d);
        layout.add(RUNNING_VAR, false, d);
        layout.add(NUM_BATCHES, false);
        layout.add(WEIGHT, true, classes, d);
        layout.add(BIAS, true, classes);
    }

    /** A store holding only a head for D-dimensional features, initialised by {@link #init}. */
    public static ParamStore create(int d, int classes, DataType dtype, Random rng) {
        ParamStore.Builder b = ParamStore.builder();
        declare(b, d, classes);
        ParamStore s = b.build(dtype);
        new ProbeHead(s).init(rng);
        return s;
    }

    /**
     * The reference's initialisation: weight ~ N(0, 0.01^2) truncated at +-2 (timm's {@code trunc_normal_}
     * bounds are absolute, so at std 0.01 they never bite), bias 0, running mean 0, running variance 1, count 0.
     */
    public void init(Random rng) {
        double[] w = new double[classes * d];
        for (int i = 0; i < w.length; i++) {
            double v;
            do v = INIT_STD * rng.nextGaussian(); while (Math.abs(v) > 2);
            w[i] = v;
        }
        put(wView, w);
        bView.assign(0);
        rmView.assign(0);
        rvView.assign(1);
        countView.assign(0);
    }

    public int featureDim() { return d; }
    public int classes() { return classes; }
    public ParamStore store() { return store; }

    /**
     * Train-mode forward and loss: x [n, D] (rows 0..n-1 of x), labels [n] -> mean cross-entropy. Uses the
     * batch statistics, updates the running statistics once, and keeps what {@link #backward} needs.
     * n must be >= 2 (an unbiased variance of one row does not exist; PyTorch refuses it too), so a loop
     * drops a last batch of one row (the reference's train loader drops every partial batch).
     */
    public double forwardTrain(float[] x, int[] labels, int n) {
        checkInput(x, n);
        if (n < 2) throw new IllegalArgumentException("a train-mode BatchNorm needs a batch of at least 2 rows, got " + n + " (drop the last partial batch)");
        if (labels.length < n) throw new IllegalArgumentException("labels: " + labels.length + " for a batch of " + n);
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " is outside [0, " + classes + ")");
        }
        ensure(n);
        double[] mu = new double[d], var = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
        for (int j = 0; j < d; j++) mu[j] /= n;
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) { double c = x[i * d + j] - mu[j]; var[j] += c * c; }
        for (int j = 0; j < d; j++) var[j] /= n;                                       // biased: the normalisation's
        normalize(x, n, mu, var);

        double[] rm = rmView.toDoubleVector(), rv = rvView.toDoubleVector();
        for (int j = 0; j < d; j++) {
            rm[j] = (1 - MOMENTUM) * rm[j] + MOMENTUM * mu[j];
            rv[j] = (1 - MOMENTUM) * rv[j] + MOMENTUM * var[j] * n / (n - 1);          // unbiased: the running estimate's
        }
        put(rmView, rm);
        put(rvView, rv);
        countView.putScalar(0, countView.getDouble(0) + 1);

        linear(n);
        lastTrain = true;
        double loss = 0;
        for (int i = 0; i < n; i++) {
            int o = i * classes;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[o + c]);
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
            loss += Math.log(sum) + max - logits[o + labels[i]];
            for (int c = 0; c < classes; c++) dlogits[o + c] = (Math.exp(logits[o + c] - max) / sum - (c == labels[i] ? 1 : 0)) / n;
        }
        return loss / n;   // NaN/infinity passes through: the training loop stops with its step and lr
    }

    /**
     * Adds d loss / d weight [classes, D] and d loss / d bias [classes] of the last {@link #forwardTrain} into
     * the store's gradients (call {@code store.zeroGrad()} first, as for any model).
     */
    public void backward() {
        if (!lastTrain) throw new IllegalStateException("backward() needs a forwardTrain() first (the last forward was " + (n < 0 ? "none" : "eval") + ")");
        double[] gw = new double[classes * d], gb = new double[classes];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < classes; c++) {
                double g = dlogits[i * classes + c];
                gb[c] += g;
                int wo = c * d, zo = i * d;
                for (int j = 0; j < d; j++) gw[wo + j] += g * z[zo + j];
            }
        }
        gwView.addi(Nd4j.createFromArray(gw).castTo(store.dataType()));
        gbView.addi(Nd4j.createFromArray(gb).castTo(store.dataType()));
    }

    /**
     * Eval-mode logits: x [n, D] (rows 0..n-1) -> [n, classes], normalised with the running statistics; changes
     * no state of the store. Returns this head's buffer, valid until its next forward.
     */
    public float[] forwardEval(float[] x, int n) {
        checkInput(x, n);
        ensure(n);
        double[] rm = rmView.toDoubleVector(), rv = rvView.toDoubleVector();
        normalize(x, n, rm, rv);
        linear(n);
        lastTrain = false;
        for (int i = 0; i < logits.length; i++) logitsOut[i] = (float) logits[i];
        return logitsOut;
    }

    /** Logits [n, classes] of the last forward (train or eval), a new array. */
    public float[] logits() { requireForward(); return toFloat(logits); }

    /** The BatchNorm output [n, D] of the last forward, the Linear's input, a new array. */
    public float[] normalized() { requireForward(); return toFloat(z); }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    /** Rows of the last forward. */
    public int batchSize() { requireForward(); return n; }

    /** Top-1 / top-5 accuracy and mean cross-entropy of a labeled feature set in eval mode (batches of 1024). */
    public record Score(double loss, double top1, double top5, int n) {}

    /** Scores every row of f in eval mode, as the reference's {@code engine_finetune.evaluate}. */
    public Score evaluate(Features f) {
        if (f.d() != d) throw new IllegalArgumentException("features have " + f.d() + " dimensions, the head " + d);
        int batch = 1024, top1 = 0, top5 = 0;
        double loss = 0;
        float[] rows = new float[batch * d];
        for (int start = 0; start < f.n(); start += batch) {
            int b = Math.min(batch, f.n() - start);
            System.arraycopy(f.x(), start * d, rows, 0, b * d);
            forwardEval(rows, b);
            double[] lg = logits;
            for (int i = 0; i < b; i++) {
                int y = f.labels()[start + i], o = i * classes, above = 0;
                if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " of row " + (start + i) + " is outside [0, " + classes + ")");
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < classes; c++) max = Math.max(max, lg[o + c]);
                for (int c = 0; c < classes; c++) {
                    sum += Math.exp(lg[o + c] - max);
                    // rank of the true class, ties counted against it
                    if (c != y && (lg[o + c] > lg[o + y] || (lg[o + c] == lg[o + y] && c < y))) above++;
                }
                loss += Math.log(sum) + max - lg[o + y];
                if (above == 0) top1++;
                if (above < 5) top5++;
            }
        }
        return new Score(loss / f.n(), (double) top1 / f.n(), (double) top5 / f.n(), f.n());
    }

    private void checkInput(float[] x, int n) {
        Objects.requireNonNull(x, "x");
        if (n < 1) throw new IllegalArgumentException("batch must have at least 1 row, got " + n);
        if (x.length < (long) n * d) throw new IllegalArgumentException("x has " + x.length + " values, a batch of " + n + " rows of " + d + " needs " + (long) n * d);
    }

    private void requireForward() { if (n < 0) throw new IllegalStateException("no forward yet"); }

    private void ensure(int rows) {
        if (rows != n) {
            z = new double[rows * d];
            logits = new double[rows * classes];
            dlogits = new double[rows * classes];
            logitsOut = new float[rows * classes];
            n = rows;
        }
    }

    /** z = (x - mean) / sqrt(var + eps), per feature. */
    private void normalize(float[] x, int rows, double[] mean, double[] var) {
        double[] inv = new double[d];
        for (int j = 0; j < d; j++) inv[j] = 1 / Math.sqrt(var[j] + EPS);
        for (int i = 0; i < rows; i++) for (int j = 0; j < d; j++) z[i * d + j] = (x[i * d + j] - mean[j]) * inv[j];
    }

    /** logits = z W^T + b. */
    private void linear(int rows) {
        double[] w = wView.toDoubleVector(), b = bView.toDoubleVector();
        // W transposed to [D, classes], so the inner loop runs `classes` independent sums (a dot product per
        // class would be one dependent chain of adds, which the JIT may not reorder: 3-4x slower)
        double[] wt = new double[d * classes];
        for (int c = 0; c < classes; c++) for (int j = 0; j < d; j++) wt[j * classes + c] = w[c * d + j];
        for (int i = 0; i < rows; i++) {
            int zo = i * d, lo = i * classes;
            System.arraycopy(b, 0, logits, lo, classes);
            for (int j = 0; j < d; j++) {
                double zj = z[zo + j];
                int wo = j * classes;
                for (int c = 0; c < classes; c++) logits[lo + c] += wt[wo + c] * zj;
            }
        }
    }

    private void put(INDArray view, double[] values) { view.assign(Nd4j.createFromArray(values).castTo(store.dataType())); }
}
