package org.mae4j.examples.viz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ReconstructionGridTest {

    // Two 8x8 images, 4x4 patches (L = 4): image 0 hides patches 0 and 3, image 1 hides patch 1 only.
    private static final int N = 2, H = 8, W = 8, P = 4, SCALE = 3;
    private static final float[] MASK = {1, 0, 0, 1, 0, 1, 0, 0};

    /** A distinct value at every position, so that a panel showing the wrong source, pixel or channel is caught. */
    private static float[] ramp(int c, float offset) {
        float[] v = new float[N * c * H * W];
        for (int i = 0; i < v.length; i++) v[i] = offset + 0.4f * (i % 97) / 97f;
        return v;
    }

    private static int panelX(int panel, int scale, int w) { return ReconstructionGrid.SEPARATOR + panel * (w * scale + ReconstructionGrid.SEPARATOR); }

    private static int panelY(int row, int scale, int h) {
        return ReconstructionGrid.TITLE_HEIGHT + ReconstructionGrid.SEPARATOR + row * (h * scale + ReconstructionGrid.SEPARATOR);
    }

    /** The output pixel at the centre of input pixel (y, x) of image {@code row} in {@code panel}. */
    private static int at(BufferedImage img, int panel, int row, int y, int x) {
        return img.getRGB(panelX(panel, SCALE, W) + x * SCALE + SCALE / 2, panelY(row, SCALE, H) + y * SCALE + SCALE / 2) & 0xFFFFFF;
    }

    private static int expectedGrey(float[] v, int i, int y, int x) {
        int b = Math.round(Math.max(0, Math.min(1, v[(i * H + y) * W + x])) * 255);
        return (b << 16) | (b << 8) | b;
    }

    private static boolean hidden(int i, int y, int x) { return MASK[i * 4 + (y / P) * (W / P) + x / P] == 1f; }

    @Test
    void imageSizeFollowsTheDocumentedLayout() {
        BufferedImage img = ReconstructionGrid.render(ramp(3, 0.1f), ramp(3, 0.5f), MASK, new GridShape(N, 3, H, W, P), SCALE);
        assertEquals(4 * W * SCALE + 5 * ReconstructionGrid.SEPARATOR, img.getWidth());
        assertEquals(ReconstructionGrid.TITLE_HEIGHT + N * H * SCALE + (N + 1) * ReconstructionGrid.SEPARATOR, img.getHeight());
    }

    @Test
    void defaultScaleMakesPanelsAtLeast112Pixels() {
        assertEquals(4, ReconstructionGrid.defaultScale(28, 28));
        assertEquals(4, ReconstructionGrid.defaultScale(32, 32));
        assertEquals(1, ReconstructionGrid.defaultScale(224, 224));
        assertEquals(14, ReconstructionGrid.defaultScale(8, 8));
        BufferedImage img = ReconstructionGrid.render(new float[28 * 28], new float[28 * 28], new float[49], new GridShape(1, 1, 28, 28, 4));
        assertEquals(4 * 112 + 5 * ReconstructionGrid.SEPARATOR, img.getWidth());
        assertEquals(ReconstructionGrid.TITLE_HEIGHT + 112 + 2 * ReconstructionGrid.SEPARATOR, img.getHeight());
    }

    @Test
    void panelsShowOriginalMaskedReconstructionAndPasteBack() {
        float[] images = ramp(1, 0.05f), recon = ramp(1, 0.55f);   // never equal: recon is 0.5 brighter
        BufferedImage img = ReconstructionGrid.render(images, recon, MASK, new GridShape(N, 1, H, W, P), SCALE);
        for (int i = 0; i < N; i++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    String where = "image " + i + " pixel (" + y + "," + x + ")";
                    int orig = expectedGrey(images, i, y, x), rec = expectedGrey(recon, i, y, x);
                    assertEquals(orig, at(img, 0, i, y, x), "original panel, " + where);
                    if (hidden(i, y, x)) {
                        int masked = at(img, 1, i, y, x);
                        for (int shift : new int[]{16, 8, 0}) {
                            assertEquals(128, (masked >> shift) & 0xFF, 1, "masked panel is grey 0.5 on hidden " + where);
                        }
                    } else {
                        assertEquals(orig, at(img, 1, i, y, x), "masked panel shows the original on visible " + where);
                    }
                    assertEquals(rec, at(img, 2, i, y, x), "reconstruction panel, " + where);
                    assertEquals(hidden(i, y, x) ? rec : orig, at(img, 3, i, y, x), "reconstruction + visible panel, " + where);
                }
            }
        }
    }

    @Test
    void upscalingIsNearestNeighbour() {
        BufferedImage img = ReconstructionGrid.render(ramp(1, 0.1f), ramp(1, 0.5f), MASK, new GridShape(N, 1, H, W, P), SCALE);
        int x0 = panelX(0, SCALE, W) + 5 * SCALE, y0 = panelY(1, SCALE, H) + 6 * SCALE;
        int first = img.getRGB(x0, y0);
        for (int dy = 0; dy < SCALE; dy++) for (int dx = 0; dx < SCALE; dx++) assertEquals(first, img.getRGB(x0 + dx, y0 + dy));
        assertNotEquals(first, img.getRGB(x0 + SCALE, y0), "the next input pixel differs");
    }

    @Test
    void rgbChannelsAreReadAsPlanesAndGreyAsOne() {
        // RGB: R plane 1, G plane 0, B plane 0.5 -> (255, 0, 128) everywhere; a layout mix-up would give other colours.
        float[] rgb = new float[3 * 4 * 4];
        for (int i = 0; i < 16; i++) { rgb[i] = 1f; rgb[16 + i] = 0f; rgb[32 + i] = 0.5f; }
        BufferedImage colour = ReconstructionGrid.render(rgb, rgb, new float[4], new GridShape(1, 3, 4, 4, 2), 2);
        assertEquals(0xFF0080, colour.getRGB(panelX(0, 2, 4) + 3, panelY(0, 2, 4) + 5) & 0xFFFFFF);

        float[] grey = new float[16];
        java.util.Arrays.fill(grey, 0.2f);   // 51
        BufferedImage g = ReconstructionGrid.render(grey, grey, new float[4], new GridShape(1, 1, 4, 4, 2), 2);
        assertEquals(0x333333, g.getRGB(panelX(0, 2, 4) + 3, panelY(0, 2, 4) + 5) & 0xFFFFFF);
    }

    @Test
    void valuesAreClampedAndNaNIsFlagged() {
        float[] v = {-0.3f, 1.7f, Float.NaN, 0.5f};
        BufferedImage img = ReconstructionGrid.render(v, v, new float[1], new GridShape(1, 1, 2, 2, 2), 1);
        int x0 = panelX(0, 1, 2), y0 = panelY(0, 1, 2);
        assertEquals(0x000000, img.getRGB(x0, y0) & 0xFFFFFF);
        assertEquals(0xFFFFFF, img.getRGB(x0 + 1, y0) & 0xFFFFFF);
        assertEquals(0xFF00FF, img.getRGB(x0, y0 + 1) & 0xFFFFFF);
        assertEquals(0x808080, img.getRGB(x0 + 1, y0 + 1) & 0xFFFFFF);
    }

    @Test
    void titlesAreDrawnAboveEachColumn() {
        BufferedImage img = ReconstructionGrid.render(new float[28 * 28], new float[28 * 28], new float[49], new GridShape(1, 1, 28, 28, 4));
        for (int k = 0; k < 4; k++) {
            int dark = 0;
            for (int y = 0; y < ReconstructionGrid.TITLE_HEIGHT; y++) {
                for (int x = panelX(k, 4, 28); x < panelX(k, 4, 28) + 112; x++) if ((img.getRGB(x, y) & 0xFF) < 100) dark++;
            }
            assertTrue(dark > 20, "title of column " + k + " (" + ReconstructionGrid.TITLES.get(k) + ") has ink: " + dark);
        }
    }

    @Test
    void badSizesAreRejectedWithTheNumbers() {
        GridShape s = new GridShape(2, 3, 8, 8, 4);
        float[] ok = new float[2 * 3 * 8 * 8], mask = new float[8];
        assertMessage(() -> ReconstructionGrid.render(new float[383], ok, mask, s, 1), "images", "383", "384");
        assertMessage(() -> ReconstructionGrid.render(ok, new float[100], mask, s, 1), "reconstruction", "100", "384");
        assertMessage(() -> ReconstructionGrid.render(ok, ok, new float[6], s, 1), "mask", "6", "8");
        assertMessage(() -> ReconstructionGrid.render(ok, ok, new float[]{0, 0, 0, 0.3f, 0, 0, 0, 0}, s, 1), "mask[3]", "0.3");
        assertMessage(() -> ReconstructionGrid.render(ok, ok, mask, s, 0), "scale", "0");
        assertMessage(() -> ReconstructionGrid.render(null, ok, mask, s, 1), "images");
        assertMessage(() -> new GridShape(1, 1, 28, 28, 5), "28", "5");
        assertMessage(() -> new GridShape(1, 1, 28, 30, 7), "28", "30", "7");
        assertMessage(() -> new GridShape(1, 2, 8, 8, 4), "channels", "2");
        assertMessage(() -> new GridShape(0, 1, 8, 8, 4), "n", "0");
        assertMessage(() -> new GridShape(1, 1, 8, 8, 0), "patch size", "0");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
    }

    @Test
    void writesAReadablePngAtomically(@TempDir Path dir) throws Exception {
        GridShape s = new GridShape(N, 3, H, W, P);
        Path png = dir.resolve("sub").resolve("grid.png");
        Files.createDirectories(png.getParent());
        Files.writeString(png, "an older file that must be replaced");
        ReconstructionGrid.write(png, ramp(3, 0.1f), ramp(3, 0.5f), MASK, s, SCALE);
        BufferedImage expected = ReconstructionGrid.render(ramp(3, 0.1f), ramp(3, 0.5f), MASK, s, SCALE);
        BufferedImage back = ImageIO.read(png.toFile());
        assertNotNull(back, "ImageIO reads the PNG back");
        assertEquals(expected.getWidth(), back.getWidth());
        assertEquals(expected.getHeight(), back.getHeight());
        assertEquals(expected.getRGB(10, 50), back.getRGB(10, 50));
        try (Stream<Path> files = Files.list(png.getParent())) {
            assertEquals(List.of(png), files.toList(), "no temporary file is left behind");
        }
    }
}
