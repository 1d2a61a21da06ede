package org.mae4j.data;

/**
 * Bilinear resampling of a box of a C*H*W float image, computed the way Pillow's
 * {@code Image.resize(size, BILINEAR, box)} computes it (which is what torchvision's Resize and
 * RandomResizedCrop do on PIL images): pixel centres sit at half-integers (align_corners=False), pixels outside
 * the image repeat the edge, and when shrinking the triangle filter is widened by the shrink factor so every
 * source pixel contributes (antialiasing; plain 4-tap bilinear would alias badly on large downscales).
 * When enlarging this is ordinary bilinear interpolation.
 *
 * <p>The filter is separable: a horizontal pass into a scratch buffer, then a vertical pass into dst. All of
 * src that is needed is read before dst is written, so src and dst may be the same region.
 */
final class Resample {
    private Resample() {}

    /**
     * One axis's taps: output o reads {@code count[o]} source pixels starting at {@code first[o]}, with weights
     * {@code weights[o * stride + k]} that sum to 1.
     */
    record Taps(int[] first, int[] count, float[] weights, int stride) {}

    /** Taps mapping the source interval [in0, in1) of an axis of inSize pixels onto outSize pixels. */
    static Taps taps(int inSize, double in0, double in1, int outSize) {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the bilinear (triangle) filter has support 1, widened when shrinking
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        float[] weights = new float[outSize * stride];
        double[] w = new double[stride];
        for (int o = 0; o < outSize; o++) {
            double center = in0 + (o + 0.5) * scale;
            // (int) truncates toward zero like Pillow's C code; negatives are clamped to 0 just after.
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), inSize);
            int n = Math.min(Math.max(hi - lo, 0), stride);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                double t = Math.abs((lo + k - center + 0.5) / filterScale);
                w[k] = t < 1 ? 1 - t : 0;
                sum += w[k];
            }
            if (sum == 0) {
                // A box that lies outside the image: use the nearest edge pixel rather than produce zeros.
                lo = Math.min(Math.max((int) Math.floor(center), 0), inSize - 1);
                n = 1;
                w[0] = 1;
                sum = 1;
            }
            first[o] = lo;
            count[o] = n;
            for (int k = 0; k < n; k++) weights[o * stride + k] = (float) (w[k] / sum);
        }
        return new Taps(first, count, weights, stride);
    }

    /**
     * Resamples the box [x0, x1) x [y0, y1) (in source pixels) of each of the C planes of src (srcW x srcH,
     * starting at srcOff) to dstW x dstH planes in dst starting at dstOff.
     */
    static void resize(float[] src, int srcOff, int channels, int srcW, int srcH,
                       double x0, double y0, double x1, double y1,
                       float[] dst, int dstOff, int dstW, int dstH) {
        Taps tx = taps(srcW, x0, x1, dstW);
        Taps ty = taps(srcH, y0, y1, dstH);
        // Only the source rows that some output row reads go through the horizontal pass.
        int rowLo = Integer.MAX_VALUE, rowHi = 0;
        for (int o = 0; o < dstH; o++) {
            rowLo = Math.min(rowLo, ty.first[o]);
            rowHi = Math.max(rowHi, ty.first[o] + ty.count[o]);
        }
        int rows = rowHi - rowLo;
        float[] tmp = new float[channels * rows * dstW];
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < rows; r++) {
                int srcRow = srcOff + (c * srcH + rowLo + r) * srcW;
                int tmpRow = (c * rows + r) * dstW;
                for (int ox = 0; ox < dstW; ox++) {
                    int f = tx.first[ox], n = tx.count[ox], wb = ox * tx.stride;
                    double acc = 0;
                    for (int k = 0; k < n; k++) acc += tx.weights[wb + k] * src[srcRow + f + k];
                    tmp[tmpRow + ox] = (float) acc;
                }
            }
        }
        for (int c = 0; c < channels; c++) {
            for (int oy = 0; oy < dstH; oy++) {
                int f = ty.first[oy] - rowLo, n = ty.count[oy], wb = oy * ty.stride;
                int dstRow = dstOff + (c * dstH + oy) * dstW;
                int tmpPlane = c * rows * dstW;
                for (int ox = 0; ox < dstW; ox++) {
                    double acc = 0;
                    for (int k = 0; k < n; k++) acc += ty.weights[wb + k] * tmp[tmpPlane + (f + k) * dstW + ox];
                    dst[dstRow + ox] = (float) acc;
                }
            }
        }
    }
}
