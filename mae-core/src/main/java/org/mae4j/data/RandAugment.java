package org.mae4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * timm's RandAugment ({@code rand_augment_transform}) on one C*H*W float image in [0, 1], the step of the MAE
 * fine-tuning transform between RandomResizedCrop + flip and ToTensor + Normalize. The reference's policy
 * {@code rand-m9-mstd0.5-inc1} is {@link #mae(float[])}.
 *
 * <p>Per image: {@code numOps} operations are chosen uniformly with replacement from {@code ops} (numpy's
 * {@code choice(ops, n)}); each then, in turn, runs with probability {@code opProb} (timm's {@code AugmentOp},
 * prob 0.5 for RandAugment), at a magnitude drawn from N(magnitude, magnitudeStd) (uniform on [0, magnitude]
 * when magnitudeStd is infinite, as timm's mstd > 100) and clipped to [0, 10]; the magnitude becomes the op's
 * argument by timm's {@code LEVEL_TO_ARG} table ({@link Op#argument}), signed ops negating it with probability
 * 0.5. Geometric ops fill uncovered pixels with {@code fill}, which the reference sets to the normalization mean
 * rounded to 8 bits ({@code img_mean}); translations are relative (timm's translate_pct 0.45). How each op acts on
 * floats, and on grey images, is documented on {@link ImageOps}: on a 1-channel image Color and ColorIncreasing
 * are the identity (there is no saturation to change) and the image stays 1-channel. The reference samples
 * geometric ops bicubically; this class samples bilinearly (see {@link ImageOps}).
 *
 * <p>Random numbers, in this order: the {@code numOps} op indices ({@link Random#nextInt(int)}), then per chosen
 * op: a uniform for opProb (only when opProb < 1; the op is skipped when it is {@code > opProb}), the magnitude
 * (a normal, or a uniform when magnitudeStd is infinite; nothing when magnitudeStd is 0), and for a signed op a
 * uniform for the sign (negated when {@code > 0.5}). A config with numOps 0 draws nothing. Equal generator states
 * give equal outputs.
 *
 * @param numOps       operations per image ({@code n}), at least 0; 0 turns RandAugment off
 * @param magnitude    mean magnitude ({@code m}) on timm's 0..10 scale
 * @param magnitudeStd standard deviation of the per-op magnitude noise ({@code mstd}), at least 0, may be infinite
 * @param opProb       probability that a chosen op is applied, in [0, 1]
 * @param ops          the op set to choose from, not empty when numOps > 0
 * @param fill         per-channel fill value in [0, 1] for geometric ops; its length is the channel count
 */
public record RandAugment(int numOps, double magnitude, double magnitudeStd, double opProb, List<Op> ops,
                          float[] fill) {

    /** timm's magnitude scale: level 10 is the largest argument of every op ({@code _LEVEL_DENOM}). */
    public static final double MAX_LEVEL = 10.0;

    /** The MAE reference's {@code --aa} default. */
    public static final String MAE_POLICY = "rand-m9-mstd0.5-inc1";

    /** timm's translate_pct default: translations up to 45% of the image side. */
    private static final double TRANSLATE_PCT = 0.45;

    /** timm's RandAugment op names and their magnitude-to-argument rules ({@code LEVEL_TO_ARG}). */
    public enum Op {
        AUTO_CONTRAST("AutoContrast"),
        EQUALIZE("Equalize"),
        INVERT("Invert"),
        /** Degrees, level/10 * 30, signed: [-30, 30]. */
        ROTATE("Rotate"),
        /** Bits kept, int(level/10 * 4): [0, 4]. */
        POSTERIZE("Posterize"),
        /** Bits kept, 4 - int(level/10 * 4): [4, 0], fewer bits at higher levels. */
        POSTERIZE_INCREASING("PosterizeIncreasing"),
        /** Threshold of 256, int(level/10 * 256): [0, 256]. */
        SOLARIZE("Solarize"),
        /** Threshold of 256, 256 - int(level/10 * 256): [256, 0], 256 inverting nothing. */
        SOLARIZE_INCREASING("SolarizeIncreasing"),
        /** Amount of 255 added below level 128, int(level/10 * 110): [0, 110]. */
        SOLARIZE_ADD("SolarizeAdd"),
        /** Enhance factor level/10 * 1.8 + 0.1: [0.1, 1.9]. */
        COLOR("Color"),
        /** Enhance factor max(0.1, 1 +/- level/10 * 0.9): [0.1, 1.9], 1 at level 0. */
        COLOR_INCREASING("ColorIncreasing"),
        CONTRAST("Contrast"),
        CONTRAST_INCREASING("ContrastIncreasing"),
        BRIGHTNESS("Brightness"),
        BRIGHTNESS_INCREASING("BrightnessIncreasing"),
        SHARPNESS("Sharpness"),
        SHARPNESS_INCREASING("SharpnessIncreasing"),
        /** Shear factor level/10 * 0.3, signed: [-0.3, 0.3]. */
        SHEAR_X("ShearX"),
        SHEAR_Y("ShearY"),
        /** Fraction of the width, level/10 * 0.45, signed: [-0.45, 0.45]. */
        TRANSLATE_X_REL("TranslateXRel"),
        /** Fraction of the height, level/10 * 0.45, signed: [-0.45, 0.45]. */
        TRANSLATE_Y_REL("TranslateYRel");

        private final String timmName;

        Op(String timmName) {
            this.timmName = timmName;
        }

        /** The name timm uses for this op. */
        public String timmName() {
            return timmName;
        }

        /** Whether timm draws a random sign for this op's argument ({@code _randomly_negate}). */
        public boolean signed() {
            return switch (this) {
                case ROTATE, SHEAR_X, SHEAR_Y, TRANSLATE_X_REL, TRANSLATE_Y_REL, COLOR_INCREASING,
                        CONTRAST_INCREASING, BRIGHTNESS_INCREASING, SHARPNESS_INCREASING -> true;
                default -> false;
            };
        }

        /**
         * timm's {@code LEVEL_TO_ARG} for a magnitude level in [0, 10] with the sign already drawn; ops without an
         * argument (AutoContrast, Equalize, Invert) return 0.
         */
        public double argument(double level, boolean negate) {
            double frac = level / MAX_LEVEL;
            double sign = negate ? -1 : 1;
            return switch (this) {
                case AUTO_CONTRAST, EQUALIZE, INVERT -> 0;
                case ROTATE -> sign * frac * 30.0;
                case POSTERIZE -> (int) (frac * 4);
                case POSTERIZE_INCREASING -> 4 - (int) (frac * 4);
                case SOLARIZE -> (int) (frac * 256);
                case SOLARIZE_INCREASING -> 256 - (int) (frac * 256);
                case SOLARIZE_ADD -> (int) (frac * 110);
                case COLOR, CONTRAST, BRIGHTNESS, SHARPNESS -> frac * 1.8 + 0.1;
                case COLOR_INCREASING, CONTRAST_INCREASING, BRIGHTNESS_INCREASING, SHARPNESS_INCREASING ->
                        Math.max(0.1, 1.0 + sign * frac * 0.9);
                case SHEAR_X, SHEAR_Y -> sign * frac * 0.3;
                case TRANSLATE_X_REL, TRANSLATE_Y_REL -> sign * frac * TRANSLATE_PCT;
            };
        }

        /**
         * Applies this op with the given argument to one image in place. img: [c, h, w] at off; fill: [c];
         * scratch: at least c*h*w floats.
         */
        void apply(float[] img, int off, int c, int h, int w, double arg, float[] fill, float[] scratch) {
            int plane = h * w, len = c * plane;
            switch (this) {
                case AUTO_CONTRAST -> ImageOps.autoContrast(img, off, c, plane);
                case EQUALIZE -> ImageOps.equalize(img, off, c, plane);
                case INVERT -> ImageOps.invert(img, off, len);
                case ROTATE -> ImageOps.rotate(img, off, c, h, w, arg, fill, scratch);
                case POSTERIZE, POSTERIZE_INCREASING -> ImageOps.posterize(img, off, len, (int) arg);
                case SOLARIZE, SOLARIZE_INCREASING -> ImageOps.solarize(img, off, len, (int) arg);
                case SOLARIZE_ADD -> ImageOps.solarizeAdd(img, off, len, (int) arg, 128);
                case COLOR, COLOR_INCREASING -> ImageOps.color(img, off, c, plane, arg);
                case CONTRAST, CONTRAST_INCREASING -> ImageOps.contrast(img, off, c, plane, arg);
                case BRIGHTNESS, BRIGHTNESS_INCREASING -> ImageOps.brightness(img, off, len, arg);
                case SHARPNESS, SHARPNESS_INCREASING -> ImageOps.sharpness(img, off, c, h, w, arg, scratch);
                case SHEAR_X -> ImageOps.affine(img, off, c, h, w, 1, arg, 0, 0, 1, 0, fill, scratch);
                case SHEAR_Y -> ImageOps.affine(img, off, c, h, w, 1, 0, 0, arg, 1, 0, fill, scratch);
                case TRANSLATE_X_REL -> ImageOps.affine(img, off, c, h, w, 1, 0, arg * w, 0, 1, 0, fill, scratch);
                case TRANSLATE_Y_REL -> ImageOps.affine(img, off, c, h, w, 1, 0, 0, 0, 1, arg * h, fill, scratch);
            }
            ImageOps.clip01(img, off, len);
        }

        /** The op timm calls {@code name}. */
        public static Op ofTimmName(String name) {
            for (Op op : values()) if (op.timmName.equals(name)) return op;
            throw new IllegalArgumentException("unknown RandAugment op '" + name + "'");
        }
    }

    /** timm's {@code _RAND_TRANSFORMS}, the default op set. */
    public static final List<Op> STANDARD_OPS = List.of(Op.AUTO_CONTRAST, Op.EQUALIZE, Op.INVERT, Op.ROTATE,
            Op.POSTERIZE, Op.SOLARIZE, Op.SOLARIZE_ADD, Op.COLOR, Op.CONTRAST, Op.BRIGHTNESS, Op.SHARPNESS,
            Op.SHEAR_X, Op.SHEAR_Y, Op.TRANSLATE_X_REL, Op.TRANSLATE_Y_REL);

    /** timm's {@code _RAND_INCREASING_TRANSFORMS} ({@code inc1}), severity growing with magnitude for every op. */
    public static final List<Op> INCREASING_OPS = List.of(Op.AUTO_CONTRAST, Op.EQUALIZE, Op.INVERT, Op.ROTATE,
            Op.POSTERIZE_INCREASING, Op.SOLARIZE_INCREASING, Op.SOLARIZE_ADD, Op.COLOR_INCREASING,
            Op.CONTRAST_INCREASING, Op.BRIGHTNESS_INCREASING, Op.SHARPNESS_INCREASING, Op.SHEAR_X, Op.SHEAR_Y,
            Op.TRANSLATE_X_REL, Op.TRANSLATE_Y_REL);

    public RandAugment {
        Objects.requireNonNull(ops, "ops");
        Objects.requireNonNull(fill, "fill");
        if (numOps < 0) throw new IllegalArgumentException("numOps must be at least 0 (0 turns RandAugment off), got " + numOps);
        if (!(magnitude >= 0 && magnitude <= MAX_LEVEL)) {
            throw new IllegalArgumentException("magnitude must be in [0, 10] (timm's scale), got " + magnitude);
        }
        if (!(magnitudeStd >= 0)) throw new IllegalArgumentException("magnitudeStd must be at least 0, got " + magnitudeStd);
        if (!(opProb >= 0 && opProb <= 1)) throw new IllegalArgumentException("opProb must be in [0, 1], got " + opProb);
        ops = List.copyOf(ops);
        if (numOps > 0 && ops.isEmpty()) throw new IllegalArgumentException("numOps is " + numOps + " but ops is empty");
        if (fill.length == 0) throw new IllegalArgumentException("fill needs one value per channel, got none");
        for (int c = 0; c < fill.length; c++) {
            if (!(fill[c] >= 0 && fill[c] <= 1)) {
                throw new IllegalArgumentException("fill[" + c + "] must be in [0, 1], got " + fill[c]);
            }
        }
        // Copied so that the record stays immutable whatever the caller does with its array.
        fill = fill.clone();
    }

    /** The MAE reference's policy {@value #MAE_POLICY}, filling with the normalization mean. */
    public static RandAugment mae(float[] mean) {
        return parse(MAE_POLICY, mean);
    }

    /** Off: {@link #apply} leaves images unchanged and draws nothing. */
    public static RandAugment none(int channels) {
        if (channels < 1) throw new IllegalArgumentException("channels must be at least 1, got " + channels);
        return new RandAugment(0, 0, 0, 0.5, List.of(), new float[channels]);
    }

    /**
     * A timm RandAugment string ({@code rand-m9-mstd0.5-inc1}: sections m magnitude, n ops per image, mstd
     * magnitude noise (over 100 meaning uniform), inc 1 for the increasing op set), or "none" / "" for off. The
     * fill is timm's {@code img_mean}: each mean value rounded to an 8-bit level. Unlike timm, which reads
     * {@code inc0} as true (Python's {@code bool('0')}), inc0 selects the standard set. Op weights ({@code w})
     * and {@code mmax} are not supported.
     *
     * @param mean per-channel normalization mean in [0, 1]; its length is the channel count
     * @throws IllegalArgumentException naming the section that cannot be read
     */
    public static RandAugment parse(String policy, float[] mean) {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(mean, "mean");
        String p = policy.trim();
        if (p.isEmpty() || p.equalsIgnoreCase("none")) return none(mean.length);
        String[] parts = p.split("-");
        if (!parts[0].equals("rand")) {
            throw new IllegalArgumentException("RandAugment policy '" + policy + "' must start with 'rand' (e.g. "
                    + MAE_POLICY + ") or be 'none'");
        }
        int n = 2;
        double m = MAX_LEVEL, mstd = 0;
        List<Op> set = STANDARD_OPS;
        Pattern section = Pattern.compile("([a-z]+)(\\d.*)");
        for (int i = 1; i < parts.length; i++) {
            Matcher mt = section.matcher(parts[i]);
            if (!mt.matches()) {
                throw new IllegalArgumentException("RandAugment policy '" + policy + "': cannot read section '"
                        + parts[i] + "' (expected a key and a number, e.g. m9)");
            }
            String key = mt.group(1), val = mt.group(2);
            try {
                switch (key) {
                    case "m" -> m = Integer.parseInt(val);
                    case "n" -> n = Integer.parseInt(val);
                    case "mstd" -> {
                        mstd = Double.parseDouble(val);
                        if (mstd > 100) mstd = Double.POSITIVE_INFINITY;
                    }
                    case "inc" -> set = Integer.parseInt(val) != 0 ? INCREASING_OPS : STANDARD_OPS;
                    default -> throw new IllegalArgumentException("RandAugment policy '" + policy
                            + "': unsupported section '" + parts[i] + "' (known: m, n, mstd, inc)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("RandAugment policy '" + policy + "': '" + val
                        + "' in section '" + parts[i] + "' is not a number");
            }
        }
        float[] fill = new float[mean.length];
        for (int c = 0; c < mean.length; c++) {
            if (!(mean[c] >= 0 && mean[c] <= 1)) {
                throw new IllegalArgumentException("mean[" + c + "] must be in [0, 1] to be a fill colour, got " + mean[c]);
            }
            // timm: img_mean = min(255, round(255 * x)), Python's round being half to even.
            fill[c] = (float) (Math.min(255, Math.rint(255.0 * mean[c])) / 255.0);
        }
        return new RandAugment(n, m, mstd, 0.5, set, fill);
    }

    /** Whether {@link #apply} can change an image. */
    public boolean enabled() {
        return numOps > 0 && opProb > 0;
    }

    /** Number of channels this transform's fill colour covers. */
    public int channels() {
        return fill.length;
    }

    @Override
    public float[] fill() {
        return fill.clone();
    }

    /**
     * The timm policy string for this config ({@code rand-m9-n2-mstd0.5-inc1}), or "none" when off; a custom op
     * set or op probability is shown after the string.
     */
    public String policy() {
        if (numOps == 0) return "none";
        StringBuilder sb = new StringBuilder("rand-m").append(fmt(magnitude)).append("-n").append(numOps);
        if (magnitudeStd > 0) sb.append("-mstd").append(Double.isInfinite(magnitudeStd) ? "101" : fmt(magnitudeStd));
        if (ops.equals(INCREASING_OPS)) {
            sb.append("-inc1");
        } else if (!ops.equals(STANDARD_OPS)) {
            sb.append(" ops=").append(ops.stream().map(Op::timmName).toList());
        }
        if (opProb != 0.5) sb.append(" p=").append(opProb);
        return sb.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * Augments one image in place. img: [c, h, w] at offset off, values in [0, 1] (results are clipped to [0, 1]).
     *
     * @throws IllegalArgumentException if c differs from the fill's channel count or the array is too short
     */
    public void apply(float[] img, int off, int c, int h, int w, Random rng) {
        Objects.requireNonNull(img, "img");
        Objects.requireNonNull(rng, "rng");
        if (h < 1 || w < 1) throw new IllegalArgumentException("need h, w >= 1, got h " + h + ", w " + w);
        if (c != fill.length) {
            throw new IllegalArgumentException("image has " + c + " channels but this RandAugment's fill has "
                    + fill.length);
        }
        long len = (long) c * h * w;
        if (off < 0 || off + len > img.length) {
            throw new IllegalArgumentException("img has " + img.length + " floats, need c*h*w = " + len
                    + " from offset " + off);
        }
        if (numOps == 0) return;
        int[] chosen = new int[numOps];
        for (int i = 0; i < numOps; i++) chosen[i] = rng.nextInt(ops.size());
        float[] scratch = null;
        for (int i = 0; i < numOps; i++) {
            Op op = ops.get(chosen[i]);
            if (opProb < 1 && rng.nextDouble() > opProb) continue;
            double arg = op.argument(sampleLevel(rng), op.signed() && rng.nextDouble() > 0.5);
            if (scratch == null) scratch = new float[(int) len];
            op.apply(img, off, c, h, w, arg, fill, scratch);
        }
    }

    /** {@link #apply(float[], int, int, int, int, Random)} for a square s x s image. */
    public void apply(float[] img, int off, int c, int s, Random rng) {
        apply(img, off, c, s, s, rng);
    }

    /** timm's per-op magnitude: N(m, mstd) (uniform on [0, m] for infinite mstd), clipped to [0, 10]. */
    double sampleLevel(Random rng) {
        double level = magnitude;
        if (magnitudeStd > 0) {
            level = Double.isInfinite(magnitudeStd) ? magnitude * rng.nextDouble()
                    : magnitude + magnitudeStd * rng.nextGaussian();
        }
        return Math.max(0, Math.min(level, MAX_LEVEL));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RandAugment r && numOps == r.numOps && magnitude == r.magnitude
                && magnitudeStd == r.magnitudeStd && opProb == r.opProb && ops.equals(r.ops)
                && Arrays.equals(fill, r.fill);
    }

    @Override
    public int hashCode() {
        return Objects.hash(numOps, magnitude, magnitudeStd, opProb, ops, Arrays.hashCode(fill));
    }

    @Override
    public String toString() {
        List<String> f = new ArrayList<>();
        for (float v : fill) f.add(String.format(Locale.ROOT, "%.4f", v));
        return "RandAugment[" + policy() + ", opProb=" + opProb + ", fill=" + f + ", bilinear]";
    }
}
