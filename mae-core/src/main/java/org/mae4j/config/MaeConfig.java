package org.mae4j.config;

/**
 * Every knob of the reference MAE model (facebookresearch/mae {@code MaskedAutoencoderViT}).
 * Immutable and validated; derived sizes are methods. Start from a preset and change what you need:
 * {@code MaeConfig.tinyFmnist().withMaskRatio(0.5)}.
 *
 * @param imageSize   H = W, pixels; square images only
 * @param patchSize   p; must divide imageSize
 * @param channels    C, any count (the reference hard-codes 3)
 * @param encoder     ViT encoder stack (D = encoder.width)
 * @param decoder     decoder stack (E = decoder.width)
 * @param maskRatio   fraction of patches removed, in [0, 1); at least one patch must stay visible
 * @param normPixLoss standardise each target patch (mean 0, unbiased variance 1) before the MSE
 * @param normEps     LayerNorm epsilon (1e-6 in the official models; HuggingFace ViTMAE uses 1e-12)
 */
public record MaeConfig(int imageSize, int patchSize, int channels, VitSpec encoder, VitSpec decoder,
                        double maskRatio, boolean normPixLoss, double normEps) {

    public MaeConfig {
        if (encoder == null || decoder == null) throw new IllegalArgumentException("encoder and decoder specs are required");
        if (imageSize <= 0 || patchSize <= 0) {
            throw new IllegalArgumentException("imageSize (" + imageSize + ") and patchSize (" + patchSize + ") must be positive");
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("imageSize (" + imageSize + ") must be divisible by patchSize (" + patchSize
                    + "); nearest valid image sizes: " + nearestMultiples(imageSize, patchSize));
        }
        if (channels <= 0) throw new IllegalArgumentException("channels must be positive, got " + channels);
        if (encoder.width() % 4 != 0 || decoder.width() % 4 != 0) {
            throw new IllegalArgumentException("the 2-D sin-cos position embedding needs widths divisible by 4, got encoder "
                    + encoder.width() + ", decoder " + decoder.width());
        }
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("maskRatio must be in [0, 1), got " + maskRatio);
        }
        // L must fit in an int (and largestRatioKeepingOne loops forever on an L that overflowed to 0)
        if (imageSize / patchSize > 46340) {
            throw new IllegalArgumentException("imageSize / patchSize (" + imageSize / patchSize + " patches per side) must be at most 46340");
        }
        int l = (imageSize / patchSize) * (imageSize / patchSize);
        if ((int) (l * (1 - maskRatio)) < 1) {
            throw new IllegalArgumentException("maskRatio " + maskRatio + " keeps no patch out of " + l
                    + " (kept = int(L * (1 - maskRatio))); use maskRatio <= " + largestRatioKeepingOne(l));
        }
        if (!(normEps > 0) || Double.isInfinite(normEps)) throw new IllegalArgumentException("normEps must be positive, got " + normEps);
    }

    /** The positive multiples of p next to size, for error messages ("24 or 28", or just "4" below p). */
    private static String nearestMultiples(int size, int p) {
        int below = (size / p) * p, above = below + p;
        return below > 0 ? below + " or " + above : String.valueOf(above);
    }

    /**
     * The largest ratio r with int(l * (1 - r)) >= 1. Mathematically 1 - 1/l, but that double can round so
     * that the product truncates to 0, so step down until it really keeps a patch.
     */
    static double largestRatioKeepingOne(int l) {
        double r = 1 - 1.0 / l;
        while ((int) (l * (1 - r)) < 1) r = Math.nextDown(r);
        return r;
    }

    /** h = w = imageSize / patchSize, patches per side. */
    public int gridSize() { return imageSize / patchSize; }

    /** L, patches per image. */
    public int numPatches() { return gridSize() * gridSize(); }

    /** K = int(L * (1 - maskRatio)), visible patches per image (truncation, as the reference). */
    public int numKept() { return (int) (numPatches() * (1 - maskRatio)); }

    /** P = p * p * C, values per patch. */
    public int patchDim() { return patchSize * patchSize * channels; }

    public MaeConfig withMaskRatio(double r) { return new MaeConfig(imageSize, patchSize, channels, encoder, decoder, r, normPixLoss, normEps); }
    public MaeConfig withNormPixLoss(boolean b) { return new MaeConfig(imageSize, patchSize, channels, encoder, decoder, maskRatio, b, normEps); }
    public MaeConfig withNormEps(double e) { return new MaeConfig(imageSize, patchSize, channels, encoder, decoder, maskRatio, normPixLoss, e); }
    public MaeConfig withChannels(int c) { return new MaeConfig(imageSize, patchSize, c, encoder, decoder, maskRatio, normPixLoss, normEps); }
    public MaeConfig withDecoder(VitSpec d) { return new MaeConfig(imageSize, patchSize, channels, encoder, d, maskRatio, normPixLoss, normEps); }
    public MaeConfig withImageSize(int s) { return new MaeConfig(s, patchSize, channels, encoder, decoder, maskRatio, normPixLoss, normEps); }

    private static final double EPS = 1e-6;

    private static final java.util.Map<String, java.util.function.Supplier<MaeConfig>> PRESETS = java.util.Map.of(
            "maeVitBasePatch16", MaeConfig::maeVitBasePatch16,
            "maeVitLargePatch16", MaeConfig::maeVitLargePatch16,
            "maeVitHugePatch14", MaeConfig::maeVitHugePatch14,
            "tinyFmnist", MaeConfig::tinyFmnist,
            "tinyFmnist6", MaeConfig::tinyFmnist6,
            "tinyFmnist6Lite", MaeConfig::tinyFmnist6Lite,
            "vitTiny32", MaeConfig::vitTiny32,
            "micro", MaeConfig::micro);

    /** The preset of that name (as the factory method: {@code tinyFmnist}, {@code maeVitBasePatch16}, ...). */
    public static MaeConfig preset(String name) {
        if (name == null) throw new IllegalArgumentException("no preset name given; known: " + presetNames());
        java.util.function.Supplier<MaeConfig> s = PRESETS.get(name);
        if (s == null) throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + presetNames());
        return s.get();
    }

    /** Names accepted by {@link #preset(String)}, sorted. */
    public static java.util.List<String> presetNames() { return PRESETS.keySet().stream().sorted().toList(); }

    /** MAE ViT-Base/16 (224 px RGB): encoder 768 x 12 x 12 heads, decoder 512 x 8 x 16 heads. */
    public static MaeConfig maeVitBasePatch16() {
        return new MaeConfig(224, 16, 3, new VitSpec(768, 12, 12, 4), new VitSpec(512, 8, 16, 4), 0.75, false, EPS);
    }

    /** MAE ViT-Large/16: encoder 1024 x 24 x 16 heads, decoder 512 x 8 x 16 heads. */
    public static MaeConfig maeVitLargePatch16() {
        return new MaeConfig(224, 16, 3, new VitSpec(1024, 24, 16, 4), new VitSpec(512, 8, 16, 4), 0.75, false, EPS);
    }

    /** MAE ViT-Huge/14: encoder 1280 x 32 x 16 heads, decoder 512 x 8 x 16 heads. */
    public static MaeConfig maeVitHugePatch14() {
        return new MaeConfig(224, 14, 3, new VitSpec(1280, 32, 16, 4), new VitSpec(512, 8, 16, 4), 0.75, false, EPS);
    }

    /** Fashion-MNIST sized: 28 px grey, patch 4 (L = 49); encoder 192 x 12 x 3, decoder 96 x 4 x 3; norm-pix loss. */
    public static MaeConfig tinyFmnist() {
        return new MaeConfig(28, 4, 1, new VitSpec(192, 12, 3, 4), new VitSpec(96, 4, 3, 4), 0.75, true, EPS);
    }

    /**
     * {@link #tinyFmnist()} with 6 encoder blocks instead of 12: half the encoder's cost, for budgets where more
     * epochs buy more than depth (the Fashion-MNIST study in docs/results.md).
     */
    public static MaeConfig tinyFmnist6() {
        return new MaeConfig(28, 4, 1, new VitSpec(192, 6, 3, 4), new VitSpec(96, 4, 3, 4), 0.75, true, EPS);
    }

    /**
     * {@link #tinyFmnist6()}'s encoder with a one-block decoder of width 128 (4 heads): the same encoder for
     * fine-tuning and features at 0.64x the pretraining cost per epoch on the development machine (98 s against 152 s
     * per 60,000 images). The MAE paper found fine-tuning flat in decoder depth (Table 1: 84.8% with one block, 84.9%
     * with eight); the decoder pilot of docs/results.md ("Study II") compared it with the 4 x 96 decoder at equal hours.
     */
    public static MaeConfig tinyFmnist6Lite() {
        return tinyFmnist6().withDecoder(new VitSpec(128, 1, 4, 4));
    }

    /** CIFAR sized: 32 px RGB, patch 4 (L = 64), the widths of {@link #tinyFmnist()}. */
    public static MaeConfig vitTiny32() {
        return new MaeConfig(32, 4, 3, new VitSpec(192, 12, 3, 4), new VitSpec(96, 4, 3, 4), 0.75, true, EPS);
    }

    /** A toy for tests and debugging: 16 px RGB, patch 4, encoder 32 x 2 x 2, decoder 16 x 1 x 2 (the {@code micro} fixture). */
    public static MaeConfig micro() {
        return new MaeConfig(16, 4, 3, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, EPS);
    }
}
