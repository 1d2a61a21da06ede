package org.mae4j.data;

import java.util.Objects;
import java.util.Random;

/**
 * Mixup and CutMix on a batch with label-smoothed soft targets, as timm's {@code Mixup} in mode 'batch' (the MAE
 * fine-tuning recipe's {@code mixup_fn}): one lambda for the whole batch, image i mixed with image n-1-i of the
 * unmodified batch (timm mixes with {@code x.flip(0)}), targets
 * {@code lam * smooth(y) + (1 - lam) * smooth(flip(y))} where {@code smooth} puts {@code 1 - smoothing +
 * smoothing/classes} on the class and {@code smoothing/classes} on every other class.
 *
 * <p>Per batch: with probability {@code prob} the batch is mixed, otherwise lambda is 1 and only the smoothed
 * targets are produced. When mixed and both alphas are positive, CutMix is chosen with probability
 * {@code switchProb}, else mixup; lambda is drawn from Beta(alpha, alpha) of the chosen kind. Mixup replaces each
 * image by {@code lam * x[i] + (1 - lam) * x[n-1-i]}. CutMix pastes the same box of x[n-1-i] into every x[i]:
 * timm's {@code rand_bbox}, a cut of {@code int(s * sqrt(1 - lam))} pixels per side centred at a uniform pixel
 * and clipped to the image (the box spans {@code centre -/+ cut/2}, so an odd cut loses a pixel as in timm);
 * with {@code correctLam} lambda becomes {@code 1 - box area / image area}, the fraction of pixels really kept.
 * The reference's {@code cutmix_minmax} (None in MAE) and timm's 'pair' and 'elem' modes are not implemented.
 *
 * <p>Random numbers, in this order: a uniform for {@code prob} (drawn whenever the config is {@link #enabled()},
 * even at prob 1, as timm's {@code np.random.rand() < prob}); when both alphas are positive a uniform for the
 * switch; the Beta draw (two Gamma draws by Marsaglia-Tsang, a variable number of uniforms and normals); for
 * CutMix the centre row then the centre column ({@link Random#nextInt(int)}). A disabled config draws nothing.
 * Equal generator states give equal outputs; the values differ from numpy's.
 *
 * @param mixupAlpha  Beta parameter of mixup, 0 turns mixup off; at least 0
 * @param cutmixAlpha Beta parameter of CutMix, 0 turns CutMix off; at least 0
 * @param switchProb  probability of CutMix rather than mixup when both are on, in [0, 1]
 * @param prob        probability that a batch is mixed at all, in [0, 1]
 * @param smoothing   label smoothing of the targets, in [0, 1)
 * @param correctLam  whether CutMix's lambda is recomputed from the clipped box's area
 */
public record Mixup(double mixupAlpha, double cutmixAlpha, double switchProb, double prob, double smoothing,
                    boolean correctLam) {

    /** What {@link #apply} did to a batch. */
    public enum Mode { NONE, MIXUP, CUTMIX }

    /**
     * The outcome for one batch.
     *
     * @param targets soft targets, n*classes floats row-major (row i for image i), each row summing to 1
     * @param lambda  weight of each image's own label (1 when the batch was not mixed); for CutMix the
     *                corrected value when correctLam is set
     * @param mode    what was applied
     * @param box     the pasted region for CutMix, else null
     */
    public record Mixed(float[] targets, double lambda, Mode mode, Box box) {}

    public Mixup {
        checkNonNegative("mixupAlpha", mixupAlpha);
        checkNonNegative("cutmixAlpha", cutmixAlpha);
        checkProbability("switchProb", switchProb);
        checkProbability("prob", prob);
        if (!(smoothing >= 0 && smoothing < 1)) {
            throw new IllegalArgumentException("smoothing must be in [0, 1), got " + smoothing);
        }
    }

    /**
     * The MAE fine-tuning defaults ({@code main_finetune.py}): mixup 0.8, cutmix 1.0, switch prob 0.5, prob 1.0,
     * smoothing 0.1, lambda corrected.
     */
    public static Mixup mae() {
        return new Mixup(0.8, 1.0, 0.5, 1.0, 0.1, true);
    }

    /** No mixing; {@link #apply} only returns the one-hot targets smoothed by {@code smoothing}. */
    public static Mixup off(double smoothing) {
        return new Mixup(0, 0, 0.5, 1.0, smoothing, true);
    }

    /** Whether batches may be mixed: an alpha is positive and prob is positive. */
    public boolean enabled() {
        return (mixupAlpha > 0 || cutmixAlpha > 0) && prob > 0;
    }

    /** Same as {@link #apply(float[], int, int, int, int[], int, float[], Random)} with a new targets array. */
    public Mixed apply(float[] images, int n, int c, int s, int[] labels, int classes, Random rng) {
        if (classes < 1) throw new IllegalArgumentException("classes must be at least 1, got " + classes);
        if (n < 0 || (long) n * classes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("n = " + n + " images of " + classes + " classes is not a valid batch");
        }
        return apply(images, n, c, s, labels, classes, new float[n * classes], rng);
    }

    /**
     * Mixes a batch in place and writes its soft targets. images: [n, c, s, s]; labels: [n]; targets: [n, classes].
     *
     * @param images  n*c*s*s floats, overwritten by the mixed batch
     * @param n       batch size, even and at least 2 (timm asserts an even batch)
     * @param labels  n class indices in [0, classes)
     * @param targets n*classes floats, overwritten; returned inside the result
     * @throws IllegalArgumentException on an odd batch, a wrong array length or a label out of range
     */
    public Mixed apply(float[] images, int n, int c, int s, int[] labels, int classes, float[] targets, Random rng) {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(targets, "targets");
        Objects.requireNonNull(rng, "rng");
        if (n < 2 || n % 2 != 0) {
            throw new IllegalArgumentException("mixup pairs image i with image n-1-i and needs an even batch of at "
                    + "least 2, got n = " + n + " (drop the last batch or make the batch size even)");
        }
        if (c < 1 || s < 1) throw new IllegalArgumentException("need c >= 1 and s >= 1, got c " + c + ", s " + s);
        long imageLen = (long) c * s * s;
        if (images.length != n * imageLen) {
            throw new IllegalArgumentException("images has " + images.length + " floats, expected n*c*s*s = " + n
                    + "*" + c + "*" + s + "*" + s + " = " + n * imageLen);
        }
        if (labels.length != n) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries, expected n = " + n);
        }
        if (classes < 1) throw new IllegalArgumentException("classes must be at least 1, got " + classes);
        if (targets.length != (long) n * classes) {
            throw new IllegalArgumentException("targets has " + targets.length + " floats, expected n*classes = "
                    + (long) n * classes);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("labels[" + i + "] = " + labels[i] + " is outside [0, " + classes + ")");
            }
        }

        double lam = 1;
        Mode mode = Mode.NONE;
        Box box = null;
        if (enabled() && rng.nextDouble() < prob) {
            boolean cutmix;
            if (mixupAlpha > 0 && cutmixAlpha > 0) {
                cutmix = rng.nextDouble() < switchProb;
            } else {
                cutmix = cutmixAlpha > 0;
            }
            lam = cutmix ? beta(cutmixAlpha, rng) : beta(mixupAlpha, rng);
            if (lam != 1) {
                int len = (int) imageLen;
                if (cutmix) {
                    box = cutmixBox(s, lam, rng);
                    if (correctLam) lam = 1.0 - (double) box.area() / ((double) s * s);
                    mode = Mode.CUTMIX;
                    pasteFlipped(images, n, c, s, len, box);
                } else {
                    mode = Mode.MIXUP;
                    blendFlipped(images, n, len, (float) lam);
                }
            }
        }
        smoothTargets(labels, n, classes, lam, smoothing, targets);
        return new Mixed(targets, lam, mode, box);
    }

    /**
     * timm's {@code rand_bbox} (margin 0) for an s x s image: cut {@code int(s * sqrt(1 - lam))} per side, centre
     * row then centre column uniform in [0, s), edges {@code centre -/+ cut // 2} clipped to [0, s].
     */
    static Box cutmixBox(int s, double lam, Random rng) {
        double ratio = Math.sqrt(1 - lam);
        int cut = (int) (s * ratio);
        int cy = rng.nextInt(s);
        int cx = rng.nextInt(s);
        int y0 = clip(cy - cut / 2, s), y1 = clip(cy + cut / 2, s);
        int x0 = clip(cx - cut / 2, s), x1 = clip(cx + cut / 2, s);
        return new Box(y0, x0, y1 - y0, x1 - x0);
    }

    private static int clip(int v, int s) {
        return Math.max(0, Math.min(v, s));
    }

    /** Pairs (i, n-1-i) exchange their box contents, which is x[i][box] = flip(x)[i][box] for every i at once. */
    private static void pasteFlipped(float[] images, int n, int c, int s, int len, Box box) {
        for (int i = 0; i < n / 2; i++) {
            int a = i * len, b = (n - 1 - i) * len;
            for (int ch = 0; ch < c; ch++) {
                for (int y = box.top(); y < box.top() + box.height(); y++) {
                    int row = ch * s * s + y * s;
                    for (int x = box.left(); x < box.left() + box.width(); x++) {
                        float t = images[a + row + x];
                        images[a + row + x] = images[b + row + x];
                        images[b + row + x] = t;
                    }
                }
            }
        }
    }

    /** Both members of a pair are computed from their old values before either is written (timm's flipped clone). */
    private static void blendFlipped(float[] images, int n, int len, float lam) {
        float mu = 1f - lam;
        for (int i = 0; i < n / 2; i++) {
            int a = i * len, b = (n - 1 - i) * len;
            for (int p = 0; p < len; p++) {
                float xa = images[a + p], xb = images[b + p];
                images[a + p] = xa * lam + xb * mu;
                images[b + p] = xb * lam + xa * mu;
            }
        }
    }

    /** timm's {@code mixup_target}: lam * onehot(y) + (1 - lam) * onehot(flip(y)), both label-smoothed. */
    private static void smoothTargets(int[] labels, int n, int classes, double lam, double smoothing, float[] out) {
        double off = smoothing / classes;
        double on = 1 - smoothing + off;
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            for (int k = 0; k < classes; k++) out[row + k] = (float) off;
            int own = labels[i], partner = labels[n - 1 - i];
            if (own == partner) {
                out[row + own] = (float) on;
            } else {
                out[row + own] = (float) (lam * on + (1 - lam) * off);
                out[row + partner] = (float) (lam * off + (1 - lam) * on);
            }
        }
    }

    /** A Beta(alpha, alpha) draw as X / (X + Y) of two Gamma(alpha) draws. */
    static double beta(double alpha, Random rng) {
        double x = gamma(alpha, rng), y = gamma(alpha, rng);
        double sum = x + y;
        // Both Gamma draws underflow to 0 only for tiny alpha, where Beta(alpha, alpha) sits at 0 or 1 anyway.
        if (sum == 0) return x >= y ? 1.0 : 0.0;
        return x / sum;
    }

    /**
     * A Gamma(shape, 1) draw by Marsaglia and Tsang's method; shapes below 1 use Gamma(shape + 1) * U^(1/shape).
     */
    static double gamma(double shape, Random rng) {
        if (shape < 1) {
            double u = rng.nextDouble();
            return gamma(shape + 1, rng) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3.0, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = rng.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) continue;
            v = v * v * v;
            double u = rng.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
        }
    }

    private static void checkNonNegative(String name, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be a finite value >= 0 (0 turns it off), got " + v);
        }
    }

    private static void checkProbability(String name, double v) {
        if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
    }

    @Override
    public String toString() {
        return "Mixup[mixup=" + mixupAlpha + ", cutmix=" + cutmixAlpha + ", switchProb=" + switchProb + ", prob="
                + prob + ", smoothing=" + smoothing + ", correctLam=" + correctLam + ", mode=batch]";
    }
}
