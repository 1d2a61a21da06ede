package org.mae4j.probe;

import java.util.Objects;
import java.util.Random;

/**
 * A linear classifier on frozen features, as the reference's linear probing: the features are standardized
 * with the training set's per-feature mean and variance (the head's BatchNorm without affine parameters, at
 * its running statistics), then one linear layer trained with softmax cross-entropy by mini-batch SGD with
 * momentum 0.9 and a cosine learning rate. Plain Java: the head of a 192-d encoder on Fashion-MNIST is
 * 1930 parameters, far below what would pay for ND4J calls.
 */
public final class LinearProbe {

    /**
     * @param epochs      passes over the training features
     * @param batch       features per SGD step
     * @param lr          peak learning rate (after one warmup epoch, then cosine to 0)
     * @param weightDecay L2 on the weights (not the bias)
     * @param seed        shuffling and initialisation
     */
    public record Options(int epochs, int batch, double lr, double weightDecay, long seed) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("lr must be positive, got " + lr);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }

        public static Options defaults() { return new Options(30, 256, 0.1, 0, 0); }
    }

    /** After each epoch: mean training loss, and training accuracy of the epoch's (updated-as-it-went) head. */
    public interface Listener {
        void onEpoch(int epoch, double loss, double trainAccuracy);
    }

    private final int d, classes;
    private final float[] mean, invStd, w, bias;   // w [classes][d]

    private LinearProbe(int d, int classes, float[] mean, float[] invStd) {
        this.d = d;
        this.classes = classes;
        this.mean = mean;
        this.invStd = invStd;
        this.w = new float[classes * d];
        this.bias = new float[classes];
    }

    /** Trains a probe on the features; classes = 1 + the largest label. */
    public static LinearProbe train(Features train, Options o, Listener listener) {
        Objects.requireNonNull(train, "train");
        int n = train.n(), d = train.d(), classes = 0;
        for (int y : train.labels()) {
            if (y < 0) throw new IllegalArgumentException("negative label " + y);
            classes = Math.max(classes, y + 1);
        }
        if (classes < 2) throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        float[] x = train.x();
        float[] mean = new float[d], invStd = new float[d];
        double[] s1 = new double[d], s2 = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) { double v = x[i * d + j]; s1[j] += v; s2[j] += v * v; }
        for (int j = 0; j < d; j++) {
            double m = s1[j] / n, var = Math.max(0, s2[j] / n - m * m);
            if (!Double.isFinite(m) || !Double.isFinite(var)) throw new IllegalArgumentException("feature " + j + " is not finite (NaN or infinity in the features)");
            mean[j] = (float) m;
            invStd[j] = (float) (1 / Math.sqrt(var + 1e-6));   // BatchNorm1d's eps
        }
        LinearProbe p = new LinearProbe(d, classes, mean, invStd);
        Random rng = new Random(o.seed());
        // The reference initialises the probe head with trunc_normal(std 0.01).
        for (int i = 0; i < p.w.length; i++) p.w[i] = (float) (0.01 * rng.nextGaussian());
        float[] vw = new float[p.w.length], vb = new float[classes], gw = new float[p.w.length], gb = new float[classes];
        float[] z = new float[d], logits = new float[classes];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        long steps = (long) o.epochs() * ((n + o.batch() - 1) / o.batch()), warmup = (n + o.batch() - 1) / o.batch(), step = 0;
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            for (int i = n - 1; i > 0; i--) { int j = rng.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
            double lossSum = 0;
            int correct = 0;
            for (int start = 0; start < n; start += o.batch(), step++) {
                int b = Math.min(o.batch(), n - start);
                java.util.Arrays.fill(gw, 0);
                java.util.Arrays.fill(gb, 0);
                for (int q = 0; q < b; q++) {
                    int i = order[start + q], y = train.labels()[i];
                    p.standardize(x, i, z);
                    p.logits(z, logits);
                    lossSum += softmaxInPlace(logits, y);
                    if (argmax(logits) == y) correct++;
                    logits[y] -= 1;                                         // d loss / d logits = softmax - onehot
                    for (int c = 0; c < classes; c++) {
                        float g = logits[c] / b;
                        gb[c] += g;
                        for (int j = 0; j < d; j++) gw[c * d + j] += g * z[j];
                    }
                }
                double lr = step < warmup ? o.lr() * (step + 1) / warmup
                        : o.lr() * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / Math.max(1, steps - warmup)));
                for (int k = 0; k < p.w.length; k++) {
                    vw[k] = 0.9f * vw[k] + gw[k] + (float) o.weightDecay() * p.w[k];
                    p.w[k] -= (float) lr * vw[k];
                }
                for (int c = 0; c < classes; c++) {
                    vb[c] = 0.9f * vb[c] + gb[c];
                    p.bias[c] -= (float) lr * vb[c];
                }
            }
            if (!Double.isFinite(lossSum)) throw new IllegalStateException("linear probe diverged at epoch " + (epoch + 1) + ": try a lower lr than " + o.lr());
            if (listener != null) listener.onEpoch(epoch, lossSum / n, (double) correct / n);
        }
        return p;
    }

    /** Top-1 accuracy on a labeled feature set. */
    public double accuracy(Features f) {
        if (f.d() != d) throw new IllegalArgumentException("features have " + f.d() + " dimensions, the probe " + d);
        float[] z = new float[d], logits = new float[classes];
        int correct = 0;
        for (int i = 0; i < f.n(); i++) {
            standardize(f.x(), i, z);
            logits(z, logits);
            if (argmax(logits) == f.labels()[i]) correct++;
        }
        return (double) correct / f.n();
    }

    /** Predicted class of feature row i. */
    public int predict(Features f, int i) {
        float[] z = new float[d], logits = new float[classes];
        standardize(f.x(), i, z);
        logits(z, logits);
        return argmax(logits);
    }

    public int classes() { return classes; }

    private void standardize(float[] x, int i, float[] z) {
        for (int j = 0; j < d; j++) z[j] = (x[i * d + j] - mean[j]) * invStd[j];
    }

    private void logits(float[] z, float[] out) {
        for (int c = 0; c < classes; c++) {
            float s = bias[c];
            for (int j = 0; j < d; j++) s += w[c * d + j] * z[j];
            out[c] = s;
        }
    }

    /** Replaces logits by softmax probabilities; returns the cross-entropy of class y. */
    static double softmaxInPlace(float[] v, int y) {
        float max = Float.NEGATIVE_INFINITY;
        for (float a : v) max = Math.max(max, a);
        double sum = 0;
        for (int c = 0; c < v.length; c++) sum += Math.exp(v[c] - max);
        double loss = Math.log(sum) - (v[y] - max);
        for (int c = 0; c < v.length; c++) v[c] = (float) (Math.exp(v[c] - max) / sum);
        return loss;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int c = 1; c < v.length; c++) if (v[c] > v[best]) best = c;
        return best;
    }
}
