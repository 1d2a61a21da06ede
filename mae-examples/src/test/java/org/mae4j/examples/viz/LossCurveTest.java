package org.mae4j.examples.viz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class LossCurveTest {
    private static final int WIDTH = 640, HEIGHT = 400;
    private static final double NAN = Double.NaN;

    private static BufferedImage chart(boolean logY, LossCurve.Series... s) {
        return LossCurve.render("loss", "step", "loss", List.of(s), logY, WIDTH, HEIGHT);
    }

    private static LossCurve.Series series(double[] x, double[] y) { return new LossCurve.Series("train", x, y); }

    /** Whether the pixel is (close to) the colour of series 0. */
    private static boolean isSeries0(BufferedImage img, int x, int y) {
        Color c = new Color(img.getRGB(x, y)), s = LossCurve.colour(0);
        return Math.abs(c.getRed() - s.getRed()) + Math.abs(c.getGreen() - s.getGreen()) + Math.abs(c.getBlue() - s.getBlue()) < 60;
    }

    /** Series-0 pixels in the square of side 2r+1 around (x, y). */
    private static int seriesPixelsNear(BufferedImage img, double x, double y, int r) {
        int n = 0;
        for (int dy = -r; dy <= r; dy++) for (int dx = -r; dx <= r; dx++) if (isSeries0(img, (int) Math.round(x) + dx, (int) Math.round(y) + dy)) n++;
        return n;
    }

    private static boolean isDark(int rgb) { return (rgb & 0xFF) < 80 && ((rgb >> 8) & 0xFF) < 80 && ((rgb >> 16) & 0xFF) < 80; }

    /**
     * The plot frame, found as the rows and columns that are dark over most of the image's width or height: only
     * the frame's edges are that long (text is short, grid lines are light, data lines are coloured).
     */
    private static Rectangle frame(BufferedImage img) {
        int top = -1, bottom = -1, left = -1, right = -1;
        for (int y = 0; y < img.getHeight(); y++) {
            int dark = 0;
            for (int x = 0; x < img.getWidth(); x++) if (isDark(img.getRGB(x, y))) dark++;
            if (dark > img.getWidth() / 2) { if (top < 0) top = y; bottom = y; }
        }
        for (int x = 0; x < img.getWidth(); x++) {
            int dark = 0;
            for (int y = 0; y < img.getHeight(); y++) if (isDark(img.getRGB(x, y))) dark++;
            if (dark > img.getHeight() / 2) { if (left < 0) left = x; right = x; }
        }
        assertTrue(top >= 0 && left >= 0 && bottom - top > 100 && right - left > 300, "plot frame found: " + top + " " + bottom + " " + left + " " + right);
        return new Rectangle(left, top, right - left, bottom - top);
    }

    @Test
    void drawsTheLineWhereTheDataAre() {
        // y = x on [0, 10]: the axes snap to exactly [0, 10], so the line runs corner to corner of the frame.
        double[] x = new double[11];
        for (int i = 0; i < x.length; i++) x[i] = i;
        BufferedImage img = chart(false, series(x, x));
        Rectangle f = frame(img);
        for (double t : new double[]{0.2, 0.5, 0.8}) {
            assertTrue(seriesPixelsNear(img, f.x + t * f.width, f.y + (1 - t) * f.height, 2) > 0, "line at fraction " + t);
        }
        // and not the other diagonal
        assertEquals(0, seriesPixelsNear(img, f.x + 0.2 * f.width, f.y + 0.2 * f.height, 2));
        assertEquals(0, seriesPixelsNear(img, f.x + 0.8 * f.width, f.y + 0.8 * f.height, 2));
    }

    @Test
    void singlePointIsDrawnAsADot() {
        BufferedImage img = chart(false, series(new double[]{5}, new double[]{0.7}));
        Rectangle f = frame(img);
        assertTrue(seriesPixelsNear(img, f.getCenterX(), f.getCenterY(), 3) >= 9, "dot at the centre of the widened axes");
    }

    @Test
    void nanLeavesAGapAndTheRestIsDrawn() {
        // x 0..4, y falling 4..0 with the middle point missing: segments 0-1 and 3-4 only.
        BufferedImage img = chart(false, series(new double[]{0, 1, 2, 3, 4}, new double[]{4, 3, NAN, 1, 0}));
        Rectangle f = frame(img);
        assertTrue(seriesPixelsNear(img, f.x + 0.125 * f.width, f.y + 0.125 * f.height, 2) > 0, "segment 0-1");
        assertTrue(seriesPixelsNear(img, f.x + 0.875 * f.width, f.y + 0.875 * f.height, 2) > 0, "segment 3-4");
        for (double t = 0.3; t <= 0.7; t += 0.05) {
            assertEquals(0, seriesPixelsNear(img, f.x + t * f.width, f.y + t * f.height, 2), "gap at fraction " + t);
        }
    }

    @Test
    void nothingFiniteGivesAnEmptyChart() {
        BufferedImage img = chart(false, series(new double[]{0, 1, NAN}, new double[]{NAN, Double.POSITIVE_INFINITY, 1}));
        Rectangle f = frame(img);
        int inPlot = 0;
        // The legend (top right) still shows the series' colour; the rest of the plot must not.
        for (int y = f.y + f.height / 4; y < f.y + f.height; y++) for (int x = f.x; x < f.x + f.width; x++) if (isSeries0(img, x, y)) inPlot++;
        assertEquals(0, inPlot);
        assertDoesNotThrow(() -> LossCurve.render(null, null, null, List.of(), true, 300, 200));
    }

    @Test
    void logScaleSkipsNonPositiveValuesAndIsLogarithmic() {
        // 0.1, 1, 10 at x = 0, 1, 2 are a straight line on a log axis, through the frame's centre; 0 and -1 are skipped.
        BufferedImage img = chart(true, series(new double[]{0, 1, 2, 3, 4}, new double[]{0.1, 1, 10, 0, -1}));
        Rectangle f = frame(img);
        assertTrue(seriesPixelsNear(img, f.getCenterX(), f.getCenterY(), 2) > 0, "y = 1 half way up a 0.1..10 log axis");
        assertTrue(seriesPixelsNear(img, f.x + 0.25 * f.width, f.y + 0.75 * f.height, 2) > 0);
        assertTrue(seriesPixelsNear(img, f.x + 0.75 * f.width, f.y + 0.25 * f.height, 2) > 0);

        // On a linear axis 1 would sit near the bottom, not at the centre.
        BufferedImage lin = chart(false, series(new double[]{0, 1, 2}, new double[]{0.1, 1, 10}));
        Rectangle lf = frame(lin);
        assertEquals(0, seriesPixelsNear(lin, lf.getCenterX(), lf.getCenterY(), 2));
    }

    @Test
    void seriesAreValidatedAndImmutable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LossCurve.Series("train", new double[3], new double[2]));
        assertTrue(e.getMessage().contains("train") && e.getMessage().contains("3") && e.getMessage().contains("2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LossCurve.Series(null, new double[1], new double[1]));

        double[] y = {1, 2};
        LossCurve.Series s = LossCurve.Series.ofY("a", y);
        y[0] = 99;
        assertEquals(1, s.y()[0]);
        s.y()[1] = 99;
        assertEquals(2, s.y()[1]);
        assertArrayEquals(new double[]{0, 1}, s.x());

        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> LossCurve.render("t", "x", "y", List.of(s), false, 150, 90));
        assertTrue(small.getMessage().contains("150") && small.getMessage().contains("90"), small.getMessage());
        java.util.List<LossCurve.Series> withNull = new java.util.ArrayList<>();
        withNull.add(s);
        withNull.add(null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LossCurve.render("t", "x", "y", withNull, false, 300, 200))
                .getMessage().contains("series[1]"));
    }

    @Test
    void writesAReadablePngAtomically(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("curve.png");
        List<LossCurve.Series> s = List.of(LossCurve.Series.ofY("train", new double[]{3, 2, 1.5, 1.2}),
                new LossCurve.Series("epoch mean", new double[]{1, 3}, new double[]{2.2, 1.3}));
        LossCurve.write(png, "t", "step", "loss", s, false, 500, 300);
        LossCurve.write(png, "t", "step", "loss", s, true, 500, 300);   // replaces the first
        BufferedImage back = ImageIO.read(png.toFile());
        assertNotNull(back);
        assertEquals(500, back.getWidth());
        assertEquals(300, back.getHeight());
        assertEquals(LossCurve.render("t", "step", "loss", s, true, 500, 300).getRGB(250, 150), back.getRGB(250, 150));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList(), "no temporary file is left behind");
        }
    }
}
