package org.mae4j.mae;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Cutting images into patches and back; pure functions. Patch l = r*w + q (grid row r, column q).
 * The target/pred vector order is (p_row, p_col, c), channel fastest, as the reference's {@code patchify};
 * the patch-embedding input order is (c, p_row, p_col), the layout of its convolution kernel. (The training
 * step cuts patches into its own buffers with {@link org.mae4j.engine.Kernels#patchify}.)
 */
public final class Patchify {
    private Patchify() {}

    /** images [N,C,H,W] -> new [N, L, p*p*C], vector order (p_row, p_col, c). */
    public static INDArray patchify(INDArray images, int p) {
        long[] s = checkImages(images, p);
        long n = s[0], c = s[1], h = s[2] / p, w = s[3] / p;
        return images.reshape('c', n, c, h, p, w, p).permute(0, 2, 4, 3, 5, 1).dup('c').reshape(n, h * w, (long) p * p * c);
    }

    /** x [N, L, p*p*C] (vector order p_row, p_col, c) -> new images [N, C, H, W]; L must be a square. */
    public static INDArray unpatchify(INDArray x, int p, int channels) {
        if (p <= 0 || channels <= 0) throw new IllegalArgumentException("patch size and channels must be positive, got " + p + ", " + channels);
        if (x.rank() != 3) throw new IllegalArgumentException("unpatchify expects [N, L, P], got " + Arrays.toString(x.shape()));
        long n = x.size(0), l = x.size(1);
        long h = Math.round(Math.sqrt(l));
        if (h * h != l) throw new IllegalArgumentException("unpatchify needs a square number of patches, got L = " + l);
        if (x.size(2) != (long) p * p * channels) {
            throw new IllegalArgumentException("unpatchify: patch vectors have " + x.size(2) + " values, expected p*p*C = "
                    + p + "*" + p + "*" + channels + " = " + (long) p * p * channels);
        }
        return x.reshape('c', n, h, h, p, p, channels).permute(0, 5, 1, 3, 2, 4).dup('c').reshape(n, channels, h * p, h * p);
    }

    private static long[] checkImages(INDArray images, int p) {
        if (p <= 0) throw new IllegalArgumentException("patch size must be positive, got " + p);
        long[] s = images.shape();
        if (s.length != 4) throw new IllegalArgumentException("images must be [N, C, H, W], got " + Arrays.toString(s));
        if (s[2] != s[3]) throw new IllegalArgumentException("images must be square, got H = " + s[2] + ", W = " + s[3]);
        if (s[2] % p != 0) throw new IllegalArgumentException("image size (" + s[2] + ") should be divisible by patch size (" + p + ")");
        return s;
    }
}
