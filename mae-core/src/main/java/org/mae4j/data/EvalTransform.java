package org.mae4j.data;

import org.mae4j.config.Normalization;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The evaluation transform: any picture to the C x size x size normalised input of a model, as the reference
 * prepares evaluation images (timm's {@code transforms_imagenet_eval}: Resize(size / crop_pct) + CenterCrop(size)
 * + ToTensor + Normalize), with these rules:
 * <ul>
 *   <li><b>colour</b>: as {@link ImageFolder}: grey to RGB replicates the grey value; RGB to grey is the
 *   luminance 0.299 R + 0.587 G + 0.114 B (Pillow's {@code convert("L")}); alpha is dropped.</li>
 *   <li><b>size</b>: for size &gt;= {@value #CROP_FROM} the shorter side goes to floor(size / {@value #CROP_PCT})
 *   (256 for 224) and the centred size x size square is cut out; below that (Fashion-MNIST, CIFAR sizes, where
 *   a 12.5% border would cut into the object) the shorter side goes to size, which is a plain resize for square
 *   pictures and exactly what {@link ImageFolder} does in training.</li>
 *   <li><b>interpolation</b>: bilinear, antialiased when shrinking (Pillow's {@code BILINEAR}, see
 *   {@link Resample}), computed as one resampling of the centred source square, so no rounding of the long side
 *   to whole pixels. The reference's evaluation uses bicubic; the two differ by a few grey levels along edges,
 *   not in what a model sees.</li>
 *   <li><b>normalisation</b>: pixels in [0, 1], then (x - mean[c]) / std[c].</li>
 * </ul>
 * Stateless and thread-safe.
 */
public final class EvalTransform {
    /** timm's default crop fraction: the centred 87.5% of the resized picture is kept. */
    public static final double CROP_PCT = 0.875;
    /** The smallest size at which the crop fraction applies. */
    public static final int CROP_FROM = 64;

    private final int size;
    private final Normalization norm;

    /** For the given input side and normalization (which fixes the channel count: 1 or 3). */
    public EvalTransform(int size, Normalization norm) {
        Objects.requireNonNull(norm, "normalization");
        if (size < 1) throw new IllegalArgumentException("image size must be positive, got " + size);
        if (norm.channels() != 1 && norm.channels() != 3) {
            throw new IllegalArgumentException("pictures convert to 1 or 3 channels, the normalization has " + norm.channels());
        }
        this.size = size;
        this.norm = norm;
    }

    public int size() { return size; }
    public int channels() { return norm.channels(); }
    public Normalization normalization() { return norm; }

    /** Side of the centred source square that becomes the output, for a picture whose shorter side is s. */
    public double sourceSide(int s) {
        if (size < CROP_FROM) return s;
        int resized = (int) Math.floor(size / CROP_PCT);
        return (double) s * size / resized;
    }

    /** Writes the picture as C x size x size normalised floats into dst at offset. */
    public void apply(BufferedImage img, float[] dst, int offset) {
        Objects.requireNonNull(img, "image");
        int c = channels(), plane = size * size;
        Objects.checkFromIndexSize(offset, c * plane, dst.length);
        int w = img.getWidth(), h = img.getHeight();
        float[] planes = ImageFolder.planes(img, c);
        int planeCount = planes.length / (w * h);
        double side = sourceSide(Math.min(w, h));
        double x0 = (w - side) / 2.0, y0 = (h - side) / 2.0;
        Resample.resize(planes, 0, planeCount, w, h, x0, y0, x0 + side, y0 + side, dst, offset, size, size);
        for (int ch = planeCount; ch < c; ch++) System.arraycopy(dst, offset, dst, offset + ch * plane, plane);
        float[] mean = norm.mean(), std = norm.std();
        for (int ch = 0; ch < c; ch++) {
            float m = mean[ch], s = std[ch];
            for (int i = offset + ch * plane, end = i + plane; i < end; i++) dst[i] = (dst[i] - m) / s;
        }
    }

    /**
     * Decodes an image file (PNG, JPEG, BMP, GIF: whatever javax.imageio reads; a CMYK JPEG is refused, see ImageFolder).
     *
     * @throws IOException naming the file when it does not exist or cannot be decoded
     */
    public static BufferedImage read(Path file) throws IOException {
        ImageFolder.requireFile(file);   // a folder or a device is named as such
        return ImageFolder.readFile(file);   // the folder's decoding: the same size checks and the same refusal of CMYK
    }
}
