package org.mae4j.examples.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The reference MAE demo's picture of a reconstruction: one row per image, four panels per row:
 * <ol>
 *   <li>original</li>
 *   <li>masked: the original with hidden patches drawn grey ({@link #MASK_GREY})</li>
 *   <li>reconstruction: the model's prediction for every patch</li>
 *   <li>reconstruction + visible: the prediction on hidden patches, the original pasted back on visible ones</li>
 * </ol>
 * Values are in display space: the caller un-normalizes; anything outside [0, 1] is clamped, and NaN is drawn
 * magenta so that a diverged model shows up instead of passing for black.
 *
 * <p>Layout, in output pixels, with {@code pw = width * scale}, {@code ph = height * scale}: a title row of
 * {@link #TITLE_HEIGHT} at the top, then every panel surrounded by {@link #SEPARATOR}-pixel white gaps. Panel
 * {@code k} of row {@code i} has its top-left corner at ({@code SEPARATOR + k * (pw + SEPARATOR)},
 * {@code TITLE_HEIGHT + SEPARATOR + i * (ph + SEPARATOR)}); the image is {@code 4 * pw + 5 * SEPARATOR} wide and
 * {@code TITLE_HEIGHT + n * ph + (n + 1) * SEPARATOR} high. Upscaling is nearest neighbour so patch edges stay sharp.
 */
public final class ReconstructionGrid {
    private ReconstructionGrid() {}

    /** Column titles, left to right. */
    public static final List<String> TITLES = List.of("original", "masked", "reconstruction", "reconstruction + visible");
    /** Gap between panels, and around the grid, in output pixels. */
    public static final int SEPARATOR = 2;
    /** Height of the title row in output pixels; fixed so the image size does not depend on the platform's fonts. */
    public static final int TITLE_HEIGHT = 36;
    /** The default scale makes each panel at least this many pixels on its shorter side. */
    public static final int MIN_PANEL_PIXELS = 112;
    /** Display value of a hidden patch in the masked panel (mid grey, 128 of 255). */
    public static final float MASK_GREY = 0.5f;

    private static final int BACKGROUND = 0xFFFFFF;
    private static final int NAN_COLOUR = 0xFF00FF;

    /** The smallest integer scale that makes the shorter side of a panel at least {@link #MIN_PANEL_PIXELS}. */
    public static int defaultScale(int height, int width) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be positive, got height " + height + ", width " + width);
        }
        int side = Math.min(height, width);
        return Math.max(1, (MIN_PANEL_PIXELS + side - 1) / side);
    }

    /** {@link #render(float[], float[], float[], GridShape, int)} at {@link #defaultScale}. */
    public static BufferedImage render(float[] images, float[] reconstruction, float[] mask, GridShape shape) {
        requireShape(shape);
        return render(images, reconstruction, mask, shape, defaultScale(shape.height(), shape.width()));
    }

    /**
     * Renders the grid.
     *
     * @param images         float[n*C*H*W], CHW per image, display space
     * @param reconstruction float[n*C*H*W], same layout: the model's prediction for every patch
     * @param mask           float[n*L], 1 = hidden, 0 = visible, patch order as in {@link GridShape}
     * @param shape          n, C, H, W and the patch size
     * @param scale          integer upscaling factor, at least 1
     */
    public static BufferedImage render(float[] images, float[] reconstruction, float[] mask, GridShape shape, int scale) {
        requireShape(shape);
        shape.checkImages("images", images);
        shape.checkImages("reconstruction", reconstruction);
        shape.checkMask(mask);
        int pw = panelSide(shape.width(), scale, "width");
        int ph = panelSide(shape.height(), scale, "height");
        long outW = 4L * pw + 5L * SEPARATOR;
        long outH = TITLE_HEIGHT + (long) shape.n() * ph + (shape.n() + 1L) * SEPARATOR;
        if (outW * outH > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("grid of " + outW + " x " + outH + " pixels (n " + shape.n() + ", scale "
                    + scale + ") is too large for one image; render fewer images or a smaller scale");
        }

        BufferedImage out = new BufferedImage((int) outW, (int) outH, BufferedImage.TYPE_INT_RGB);
        fill(out, BACKGROUND);
        drawTitles(out, pw);
        for (int i = 0; i < shape.n(); i++) {
            int y0 = TITLE_HEIGHT + SEPARATOR + i * (ph + SEPARATOR);
            for (Panel panel : Panel.values()) {
                int x0 = SEPARATOR + panel.ordinal() * (pw + SEPARATOR);
                blit(out, panel.pixels(images, reconstruction, mask, shape, i), shape, scale, x0, y0);
            }
        }
        return out;
    }

    /** Renders at {@link #defaultScale} and writes a PNG atomically (temporary file in the same directory, then a move). */
    public static void write(Path png, float[] images, float[] reconstruction, float[] mask, GridShape shape) throws IOException {
        PngFiles.writeAtomically(render(images, reconstruction, mask, shape), png);
    }

    /** Renders at {@code scale} and writes a PNG atomically (temporary file in the same directory, then a move). */
    public static void write(Path png, float[] images, float[] reconstruction, float[] mask, GridShape shape, int scale)
            throws IOException {
        PngFiles.writeAtomically(render(images, reconstruction, mask, shape, scale), png);
    }

    /** The four columns and what each shows at a pixel. */
    enum Panel {
        ORIGINAL, MASKED, RECONSTRUCTION, RECONSTRUCTION_PLUS_VISIBLE;

        /** Image {@code i} of this panel as 0xRRGGBB, H*W row-major, at the input's own resolution. */
        int[] pixels(float[] images, float[] reconstruction, float[] mask, GridShape s, int i) {
            int h = s.height(), w = s.width(), plane = h * w;
            int base = i * s.valuesPerImage();
            int[] rgb = new int[plane];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    boolean hidden = mask[i * s.patchesPerImage() + s.patchOf(y, x)] == 1f;
                    int at = y * w + x;
                    rgb[at] = switch (this) {
                        case ORIGINAL -> colour(images, base + at, plane, s.channels());
                        case MASKED -> hidden ? grey(MASK_GREY) : colour(images, base + at, plane, s.channels());
                        case RECONSTRUCTION -> colour(reconstruction, base + at, plane, s.channels());
                        case RECONSTRUCTION_PLUS_VISIBLE -> hidden
                                ? colour(reconstruction, base + at, plane, s.channels())
                                : colour(images, base + at, plane, s.channels());
                    };
                }
            }
            return rgb;
        }
    }

    /** 0xRRGGBB of the pixel at {@code at} (offset of channel 0), the other channels {@code plane} apart. */
    static int colour(float[] v, int at, int plane, int channels) {
        if (channels == 1) return grey(v[at]);
        int r = byteOf(v[at]), g = byteOf(v[at + plane]), b = byteOf(v[at + 2 * plane]);
        if (r < 0 || g < 0 || b < 0) return NAN_COLOUR;
        return (r << 16) | (g << 8) | b;
    }

    private static int grey(float v) {
        int b = byteOf(v);
        return b < 0 ? NAN_COLOUR : (b << 16) | (b << 8) | b;
    }

    /** [0, 1] -> 0..255, clamped, rounded half up (0.5 -> 128); -1 for NaN. */
    static int byteOf(float v) {
        if (Float.isNaN(v)) return -1;
        float c = Math.max(0f, Math.min(1f, v));
        return Math.round(c * 255f);
    }

    private static void blit(BufferedImage out, int[] rgb, GridShape s, int scale, int x0, int y0) {
        int w = s.width(), h = s.height();
        int[] row = new int[w * scale];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) Arrays.fill(row, x * scale, (x + 1) * scale, rgb[y * w + x]);
            for (int dy = 0; dy < scale; dy++) out.setRGB(x0, y0 + y * scale + dy, row.length, 1, row, 0, row.length);
        }
    }

    private static void drawTitles(BufferedImage out, int pw) {
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.BLACK);
            int maxHeight = TITLE_HEIGHT - 4;
            Font font = Text.fitting(g, g.getFont(), TITLES, pw, maxHeight);
            g.setFont(font);
            for (int k = 0; k < TITLES.size(); k++) {
                int x0 = SEPARATOR + k * (pw + SEPARATOR);
                // Clip to the column so that titles of tiny panels cannot run into each other.
                g.setClip(x0, 0, pw, TITLE_HEIGHT);
                Text.drawCentered(g, Text.wrap(TITLES.get(k), g.getFontMetrics(), pw), x0 + pw / 2, 2, maxHeight);
            }
        } finally {
            g.dispose();
        }
    }

    private static void fill(BufferedImage out, int rgb) {
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(new Color(rgb));
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
        } finally {
            g.dispose();
        }
    }

    private static int panelSide(int pixels, int scale, String what) {
        if (scale < 1) throw new IllegalArgumentException("scale must be at least 1, got " + scale);
        long side = (long) pixels * scale;
        if (side > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("panel " + what + " " + pixels + " * scale " + scale + " = " + side + " is too large");
        }
        return (int) side;
    }

    private static void requireShape(GridShape shape) {
        if (shape == null) throw new IllegalArgumentException("shape is null");
    }
}
