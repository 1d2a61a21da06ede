package org.mae4j.data;

/**
 * The Pillow image operations that timm's RandAugment calls, on C*H*W float images in [0, 1] instead of 8-bit
 * PIL images. Each works in place on {@code img[off ..]}; {@link RandAugment.Op} clips every result to [0, 1], as
 * Pillow's byte storage does.
 *
 * <p>Where Pillow's result depends on 8-bit values (Equalize's histogram, Posterize's bit mask, the Solarize
 * thresholds, AutoContrast's "is there any range" test) the value is quantized as {@code round(255 x)} for that
 * decision, so an image whose values are multiples of 1/255 gets Pillow's result up to float rounding. Outputs are
 * otherwise left continuous rather than rounded to 1/255. Geometric ops sample bilinearly exactly as Pillow's
 * {@code Image.transform(AFFINE, BILINEAR)} does: output pixel centres (x + 0.5, y + 0.5) are mapped through the
 * affine matrix, points outside [0, W) x [0, H) take the fill colour, others interpolate between the four nearest
 * pixel centres with edges repeated. The MAE reference resamples bicubically (interpolation='bicubic'); bilinear
 * is slightly softer on rotated and sheared edges.
 *
 * <p>Channels: colour operations (Color) act on 3-channel RGB images only and are the identity otherwise (a grey
 * image has no saturation); Contrast's grey level and Color's degenerate image use Pillow's luma
 * (0.299 R + 0.587 G + 0.114 B) for 3 channels and the value itself for 1; for any other channel count
 * Contrast's grey level is the mean over all channels. Every other op acts on each channel alike.
 */
final class ImageOps {
    private ImageOps() {}

    /** Pillow's 3x3 {@code ImageFilter.SMOOTH} kernel, which Sharpness blends against: centre 5, neighbours 1, /13. */
    private static final float SMOOTH_CENTRE = 5f / 13f, SMOOTH_NEIGHBOUR = 1f / 13f;

    /** The 8-bit level Pillow would hold for x: round(255 x) clipped to [0, 255]. */
    static int level(float x) {
        int q = (int) Math.floor(x * 255.0 + 0.5);
        return q < 0 ? 0 : Math.min(q, 255);
    }

    static void clip01(float[] img, int off, int len) {
        for (int i = off; i < off + len; i++) {
            float v = img[i];
            // NaN stays NaN: it is the caller's bug, not something to hide.
            img[i] = v < 0 ? 0 : (v > 1 ? 1 : v);
        }
    }

    static void invert(float[] img, int off, int len) {
        for (int i = off; i < off + len; i++) img[i] = 1f - img[i];
    }

    /** {@code ImageOps.autocontrast(cutoff=0)}: each channel stretched so its darkest value is 0 and brightest 1. */
    static void autoContrast(float[] img, int off, int c, int plane) {
        for (int ch = 0; ch < c; ch++) {
            int base = off + ch * plane;
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int p = base; p < base + plane; p++) {
                lo = Math.min(lo, img[p]);
                hi = Math.max(hi, img[p]);
            }
            // Pillow leaves a channel alone when its histogram has a single occupied level.
            if (level(hi) <= level(lo)) continue;
            float scale = 1f / (hi - lo);
            for (int p = base; p < base + plane; p++) img[p] = (img[p] - lo) * scale;
        }
    }

    /**
     * {@code ImageOps.equalize}: each channel's 8-bit levels remapped by Pillow's cumulative-histogram table
     * ({@code step = (pixels - count of the highest level) // 255}, {@code lut[i] = (step // 2 + cdf(i - 1)) //
     * step}); a channel with one level, or with step 0, is left alone.
     */
    static void equalize(float[] img, int off, int c, int plane) {
        int[] hist = new int[256];
        for (int ch = 0; ch < c; ch++) {
            int base = off + ch * plane;
            java.util.Arrays.fill(hist, 0);
            for (int p = base; p < base + plane; p++) hist[level(img[p])]++;
            int occupied = 0, last = 0, total = 0;
            for (int i = 0; i < 256; i++) {
                if (hist[i] > 0) {
                    occupied++;
                    last = hist[i];
                    total += hist[i];
                }
            }
            if (occupied <= 1) continue;
            int step = (total - last) / 255;
            if (step == 0) continue;
            float[] lut = new float[256];
            int n = step / 2;
            for (int i = 0; i < 256; i++) {
                lut[i] = Math.min(n / step, 255) / 255f;
                n += hist[i];
            }
            for (int p = base; p < base + plane; p++) img[p] = lut[level(img[p])];
        }
    }

    /** {@code ImageOps.posterize}: keep the top {@code bits} bits of each 8-bit level (8 or more: unchanged). */
    static void posterize(float[] img, int off, int len, int bits) {
        if (bits >= 8) return;
        int mask = ~((1 << (8 - Math.max(bits, 0))) - 1) & 0xFF;
        for (int i = off; i < off + len; i++) img[i] = (level(img[i]) & mask) / 255f;
    }

    /** {@code ImageOps.solarize}: levels at or above {@code threshold} (of 256) are inverted. */
    static void solarize(float[] img, int off, int len, int threshold) {
        for (int i = off; i < off + len; i++) {
            if (level(img[i]) >= threshold) img[i] = 1f - img[i];
        }
    }

    /** timm's {@code solarize_add}: levels below {@code threshold} get {@code add}/255 added, capped at 1. */
    static void solarizeAdd(float[] img, int off, int len, int add, int threshold) {
        float a = add / 255f;
        for (int i = off; i < off + len; i++) {
            if (level(img[i]) < threshold) img[i] = Math.min(1f, img[i] + a);
        }
    }

    /** {@code Image.blend(degenerate, img, factor)} = degenerate + factor * (img - degenerate), clipped. */
    private static float blend(float degenerate, float x, float factor) {
        float v = degenerate + factor * (x - degenerate);
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }

    /** {@code ImageEnhance.Brightness}: blend with black. */
    static void brightness(float[] img, int off, int len, double factor) {
        float f = (float) factor;
        for (int i = off; i < off + len; i++) img[i] = blend(0f, img[i], f);
    }

    /**
     * {@code ImageEnhance.Contrast}: blend with a flat image at the mean grey level, rounded to an 8-bit level as
     * Pillow does ({@code int(mean + 0.5)}).
     */
    static void contrast(float[] img, int off, int c, int plane, double factor) {
        double sum = 0;
        if (c == 3) {
            for (int p = 0; p < plane; p++) sum += luma(img, off, plane, p);
        } else {
            for (int i = off; i < off + c * plane; i++) sum += img[i];
            sum /= c;
        }
        float mean = (float) (Math.floor(sum / plane * 255 + 0.5) / 255);
        float f = (float) factor;
        for (int i = off; i < off + c * plane; i++) img[i] = blend(mean, img[i], f);
    }

    /** {@code ImageEnhance.Color}: blend with the grey (luma) image; the identity unless the image is RGB. */
    static void color(float[] img, int off, int c, int plane, double factor) {
        if (c != 3) return;
        float f = (float) factor;
        for (int p = 0; p < plane; p++) {
            float grey = luma(img, off, plane, p);
            for (int ch = 0; ch < 3; ch++) {
                int i = off + ch * plane + p;
                img[i] = blend(grey, img[i], f);
            }
        }
    }

    private static float luma(float[] img, int off, int plane, int p) {
        return 0.299f * img[off + p] + 0.587f * img[off + plane + p] + 0.114f * img[off + 2 * plane + p];
    }

    /**
     * {@code ImageEnhance.Sharpness}: blend with the image smoothed by Pillow's SMOOTH kernel, whose border pixels
     * Pillow leaves unfiltered (so the border never changes). scratch: at least h*w floats.
     */
    static void sharpness(float[] img, int off, int c, int h, int w, double factor, float[] scratch) {
        if (h < 3 || w < 3) return;
        float f = (float) factor;
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            int base = off + ch * plane;
            System.arraycopy(img, base, scratch, 0, plane);
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    int p = y * w + x;
                    float around = scratch[p - w - 1] + scratch[p - w] + scratch[p - w + 1]
                            + scratch[p - 1] + scratch[p + 1]
                            + scratch[p + w - 1] + scratch[p + w] + scratch[p + w + 1];
                    float smooth = SMOOTH_CENTRE * scratch[p] + SMOOTH_NEIGHBOUR * around;
                    img[base + p] = blend(smooth, scratch[p], f);
                }
            }
        }
    }

    /**
     * {@code Image.transform(size, AFFINE, (a, b, c, d, e, f), BILINEAR, fillcolor)}: output pixel (x, y) reads the
     * source at (a x' + b y' + c, d x' + e y' + f) with x' = x + 0.5, y' = y + 0.5. scratch: at least ch*h*w floats.
     */
    static void affine(float[] img, int off, int ch, int h, int w, double a, double b, double c, double d, double e,
                       double f, float[] fill, float[] scratch) {
        int plane = h * w;
        System.arraycopy(img, off, scratch, 0, ch * plane);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double xs = a * (x + 0.5) + b * (y + 0.5) + c;
                double ys = d * (x + 0.5) + e * (y + 0.5) + f;
                int out = off + y * w + x;
                if (!(xs >= 0 && xs < w && ys >= 0 && ys < h)) {
                    for (int k = 0; k < ch; k++) img[out + k * plane] = fill[k];
                    continue;
                }
                xs -= 0.5;
                ys -= 0.5;
                int x0 = (int) Math.floor(xs), y0 = (int) Math.floor(ys);
                float dx = (float) (xs - x0), dy = (float) (ys - y0);
                int xa = Math.max(x0, 0), xb = Math.min(x0 + 1, w - 1);
                int ya = Math.max(y0, 0), yb = Math.min(y0 + 1, h - 1);
                for (int k = 0; k < ch; k++) {
                    int pb = k * plane;
                    float top = scratch[pb + ya * w + xa] + dx * (scratch[pb + ya * w + xb] - scratch[pb + ya * w + xa]);
                    float bot = scratch[pb + yb * w + xa] + dx * (scratch[pb + yb * w + xb] - scratch[pb + yb * w + xa]);
                    img[out + k * plane] = top + dy * (bot - top);
                }
            }
        }
    }

    /**
     * {@code Image.rotate(degrees, BILINEAR, fillcolor)}: counter-clockwise about the image centre (w/2, h/2),
     * same size, corners filled.
     */
    static void rotate(float[] img, int off, int ch, int h, int w, double degrees, float[] fill, float[] scratch) {
        double angle = -Math.toRadians(degrees % 360.0);
        double cos = Math.cos(angle), sin = Math.sin(angle);
        double cx = w / 2.0, cy = h / 2.0;
        // Pillow's matrix: rotate about the origin, with the centre moved to the origin and back.
        double c = cos * -cx + sin * -cy + cx;
        double f = -sin * -cx + cos * -cy + cy;
        affine(img, off, ch, h, w, cos, sin, c, -sin, cos, f, fill, scratch);
    }
}
