package org.mae4j.examples.viz;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A line chart of one or more series (training loss per step, per-epoch mean, ...) as an image: axes with ticks
 * and labels, axis titles, a legend in the top-right corner, optionally a log10 y axis.
 *
 * <p>Points that cannot be drawn are skipped and leave a gap in their line: NaN or infinite coordinates, and on
 * a log axis y values that are not positive; a note under the title counts them, so a diverged run is not hidden.
 * A point with no drawable neighbour (a one-point series, or one between two gaps) is drawn as a dot. With nothing
 * drawable at all the chart keeps its axes over a placeholder range and says so in the plot area.
 */
public final class LossCurve {
    private LossCurve() {}

    /** Smallest accepted image size: below it the tick labels would not fit beside the plot. */
    public static final int MIN_WIDTH = 200, MIN_HEIGHT = 160;

    /** matplotlib's "tab10" colours, so that charts look like the reference's; they repeat after ten series. */
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};
    private static final Color GRID = new Color(0xE6E6E6);
    private static final Color NOTE = new Color(0x666666);
    private static final int PAD = 8, TICK = 5, RIGHT_MARGIN = 20;

    /**
     * One line of the chart; the arrays are copied, in and out, so a series cannot change after it is made.
     *
     * @param name legend text
     * @param x    x coordinates (e.g. step)
     * @param y    y values, as many as {@code x}
     */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (name == null) throw new IllegalArgumentException("series name is null");
            if (x == null || y == null) throw new IllegalArgumentException("series '" + name + "': x or y is null");
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "': x has " + x.length + " values but y has " + y.length);
            }
            x = x.clone();
            y = y.clone();
        }

        /** A series plotted against its index 0, 1, 2, ... (e.g. loss per step). */
        public static Series ofY(String name, double[] y) {
            if (y == null) throw new IllegalArgumentException("series '" + name + "': y is null");
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) x[i] = i;
            return new Series(name, x, y);
        }

        @Override public double[] x() { return x.clone(); }
        @Override public double[] y() { return y.clone(); }

        /** Number of points. */
        public int size() { return x.length; }

        boolean drawable(int i, boolean logY) {
            return Double.isFinite(x[i]) && Double.isFinite(y[i]) && (!logY || y[i] > 0);
        }
    }

    /**
     * Renders the chart.
     *
     * @param title  text above the plot; null for none (likewise {@code xLabel}, {@code yLabel})
     * @param series the lines, drawn in order with the tab10 colours; may be empty
     * @param logY   log10 y axis (y values that are not positive are skipped)
     * @param width  image width, at least {@link #MIN_WIDTH}
     * @param height image height, at least {@link #MIN_HEIGHT}
     */
    public static BufferedImage render(String title, String xLabel, String yLabel, List<Series> series, boolean logY,
                                       int width, int height) {
        if (width < MIN_WIDTH || height < MIN_HEIGHT) {
            throw new IllegalArgumentException("chart size " + width + " x " + height + " is too small; need at least "
                    + MIN_WIDTH + " x " + MIN_HEIGHT);
        }
        if (series == null) throw new IllegalArgumentException("series list is null");
        for (int s = 0; s < series.size(); s++) {
            if (series.get(s) == null) throw new IllegalArgumentException("series[" + s + "] is null");
        }

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            new Painter(g, width, height, series, logY).paint(text(title), text(xLabel), text(yLabel));
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Renders and writes a PNG atomically (temporary file in the same directory, then a move). */
    public static void write(Path png, String title, String xLabel, String yLabel, List<Series> series, boolean logY,
                             int width, int height) throws IOException {
        PngFiles.writeAtomically(render(title, xLabel, yLabel, series, logY, width, height), png);
    }

    /** Writes charts (e.g. from {@link #render}) one above the other as one PNG, atomically; they may differ in size. */
    public static void writeStacked(Path png, List<BufferedImage> panels) throws IOException {
        if (panels.isEmpty()) throw new IllegalArgumentException("no panels to write to " + png);
        int width = 0, height = 0;
        for (BufferedImage p : panels) { width = Math.max(width, p.getWidth()); height += p.getHeight(); }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            int y = 0;
            for (BufferedImage p : panels) { g.drawImage(p, 0, y, null); y += p.getHeight(); }
        } finally {
            g.dispose();
        }
        PngFiles.writeAtomically(img, png);
    }

    /** The colour of series {@code i}. */
    static Color colour(int i) { return PALETTE[i % PALETTE.length]; }

    private static String text(String s) { return s == null ? "" : s; }

    /** One rendering: the layout is worked out top to bottom, then left to right, because each needs the last. */
    private static final class Painter {
        private final Graphics2D g;
        private final int width, height;
        private final List<Series> series;
        private final boolean logY;
        private final Font font, titleFont, noteFont;
        private int skippedNonFinite, skippedNonPositive, drawable;
        private double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY;
        private double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;

        Painter(Graphics2D g, int width, int height, List<Series> series, boolean logY) {
            this.g = g;
            this.width = width;
            this.height = height;
            this.series = series;
            this.logY = logY;
            this.font = g.getFont();
            this.titleFont = font.deriveFont(Font.BOLD, font.getSize2D() + 2);
            this.noteFont = font.deriveFont(Font.ITALIC, font.getSize2D() - 1);
            scan();
        }

        private void scan() {
            for (Series s : series) {
                double[] x = s.x, y = s.y;
                for (int i = 0; i < x.length; i++) {
                    if (s.drawable(i, logY)) {
                        drawable++;
                        minX = Math.min(minX, x[i]);
                        maxX = Math.max(maxX, x[i]);
                        minY = Math.min(minY, y[i]);
                        maxY = Math.max(maxY, y[i]);
                    } else if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                        skippedNonPositive++;
                    } else {
                        skippedNonFinite++;
                    }
                }
            }
        }

        void paint(String title, String xLabel, String yLabel) {
            FontMetrics fm = g.getFontMetrics(font), tfm = g.getFontMetrics(titleFont), nfm = g.getFontMetrics(noteFont);
            String skipNote = skipNote();
            int top = PAD + (title.isEmpty() ? 0 : tfm.getHeight()) + (skipNote.isEmpty() ? 0 : nfm.getHeight()) + PAD;
            int bottom = TICK + fm.getHeight() + (xLabel.isEmpty() ? 0 : fm.getHeight() + 2) + PAD;
            int plotH = Math.max(10, height - top - bottom);
            Axis yAxis = drawable == 0 ? Axis.placeholder(logY) : Axis.fit(minY, maxY, logY, plotH / 50);

            int labelW = 0;
            for (double t : yAxis.ticks()) labelW = Math.max(labelW, fm.stringWidth(yAxis.label(t)));
            int left = PAD + (yLabel.isEmpty() ? 0 : fm.getHeight() + 4) + labelW + TICK + 3;
            int plotW = Math.max(10, width - left - RIGHT_MARGIN);
            Axis xAxis = drawable == 0 ? Axis.placeholder(false) : Axis.fit(minX, maxX, false, plotW / 90);
            Frame f = new Frame(left, top, plotW, plotH, xAxis, yAxis);

            drawGridAndTicks(f, fm);
            drawLabels(f, title, skipNote, xLabel, yLabel, fm, tfm, nfm);
            drawSeries(f);
            drawLegend(f, fm);
            if (drawable == 0) drawEmptyNote(f, nfm);
        }

        private String skipNote() {
            List<String> parts = new ArrayList<>();
            if (skippedNonFinite > 0) parts.add(skippedNonFinite + " non-finite");
            if (skippedNonPositive > 0) parts.add(skippedNonPositive + " non-positive (log scale)");
            return parts.isEmpty() ? "" : "skipped " + String.join(", ", parts) + " point" + (skippedNonFinite + skippedNonPositive == 1 ? "" : "s");
        }

        private void drawGridAndTicks(Frame f, FontMetrics fm) {
            g.setFont(font);
            g.setStroke(new BasicStroke(1f));
            for (double t : f.x.ticks()) {
                double px = f.px(t);
                g.setColor(GRID);
                g.draw(new Line2D.Double(px, f.top, px, f.top + f.h));
                g.setColor(Color.BLACK);
                g.draw(new Line2D.Double(px, f.top + f.h, px, f.top + f.h + TICK));
                String s = f.x.label(t);
                g.drawString(s, (float) (px - fm.stringWidth(s) / 2.0), f.top + f.h + TICK + fm.getAscent());
            }
            for (double t : f.y.ticks()) {
                double py = f.py(t);
                g.setColor(GRID);
                g.draw(new Line2D.Double(f.left, py, f.left + f.w, py));
                g.setColor(Color.BLACK);
                g.draw(new Line2D.Double(f.left - TICK, py, f.left, py));
                String s = f.y.label(t);
                g.drawString(s, f.left - TICK - 3 - fm.stringWidth(s), (float) (py + fm.getAscent() / 2.0 - 1));
            }
            g.setColor(Color.BLACK);
            g.drawRect(f.left, f.top, f.w, f.h);
        }

        private void drawLabels(Frame f, String title, String skipNote, String xLabel, String yLabel,
                                FontMetrics fm, FontMetrics tfm, FontMetrics nfm) {
            g.setColor(Color.BLACK);
            int y = PAD;
            if (!title.isEmpty()) {
                g.setFont(titleFont);
                g.drawString(title, (width - tfm.stringWidth(title)) / 2, y + tfm.getAscent());
                y += tfm.getHeight();
            }
            if (!skipNote.isEmpty()) {
                g.setFont(noteFont);
                g.setColor(NOTE);
                g.drawString(skipNote, (width - nfm.stringWidth(skipNote)) / 2, y + nfm.getAscent());
                g.setColor(Color.BLACK);
            }
            g.setFont(font);
            if (!xLabel.isEmpty()) {
                int cx = f.left + f.w / 2;
                g.drawString(xLabel, cx - fm.stringWidth(xLabel) / 2, f.top + f.h + TICK + fm.getHeight() + 2 + fm.getAscent());
            }
            if (!yLabel.isEmpty()) {
                AffineTransform saved = g.getTransform();
                g.translate(PAD + fm.getAscent(), f.top + f.h / 2.0);
                g.rotate(-Math.PI / 2);
                g.drawString(yLabel, -fm.stringWidth(yLabel) / 2f, 0);
                g.setTransform(saved);
            }
        }

        private void drawSeries(Frame f) {
            // Clip a pixel outside the frame so that a line along an axis end keeps its full width.
            g.setClip(f.left - 1, f.top - 1, f.w + 3, f.h + 3);
            g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            for (int s = 0; s < series.size(); s++) {
                Series ser = series.get(s);
                g.setColor(colour(s));
                Path2D.Double path = new Path2D.Double();
                int n = ser.size();
                for (int i = 0; i < n; i++) {
                    if (!ser.drawable(i, logY)) continue;
                    double px = f.px(ser.x[i]), py = f.py(ser.y[i]);
                    boolean prev = i > 0 && ser.drawable(i - 1, logY), next = i + 1 < n && ser.drawable(i + 1, logY);
                    if (prev) path.lineTo(px, py);
                    else path.moveTo(px, py);
                    if (!prev && !next) g.fill(new Ellipse2D.Double(px - 3, py - 3, 6, 6));
                }
                g.draw(path);
            }
            g.setClip(null);
        }

        private void drawLegend(Frame f, FontMetrics fm) {
            if (series.isEmpty()) return;
            g.setFont(font);
            List<String> names = new ArrayList<>();
            int textW = 0;
            for (Series s : series) {
                boolean any = false;
                for (int i = 0; i < s.size() && !any; i++) any = s.drawable(i, logY);
                String name = any ? s.name() : s.name() + " (no data)";
                names.add(name);
                textW = Math.max(textW, fm.stringWidth(name));
            }
            int swatch = 20, pad = 6, rowH = fm.getHeight();
            int boxW = pad + swatch + pad + textW + pad, boxH = pad + rowH * names.size() + pad;
            int x0 = f.left + f.w - boxW - 6, y0 = f.top + 6;
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(x0, y0, boxW, boxH);
            g.setColor(Color.LIGHT_GRAY);
            g.setStroke(new BasicStroke(1f));
            g.drawRect(x0, y0, boxW, boxH);
            for (int s = 0; s < names.size(); s++) {
                int cy = y0 + pad + s * rowH + rowH / 2;
                g.setColor(colour(s));
                g.setStroke(new BasicStroke(2f));
                g.draw(new Line2D.Double(x0 + pad, cy, x0 + pad + swatch, cy));
                g.setColor(Color.BLACK);
                g.drawString(names.get(s), x0 + pad + swatch + pad, cy - rowH / 2 + fm.getAscent());
            }
        }

        private void drawEmptyNote(Frame f, FontMetrics nfm) {
            String note = series.isEmpty() ? "no series to plot"
                    : logY && skippedNonPositive > 0 ? "no finite positive data to plot on a log scale"
                    : "no finite data to plot";
            g.setFont(noteFont);
            g.setColor(NOTE);
            g.drawString(note, f.left + (f.w - nfm.stringWidth(note)) / 2, f.top + f.h / 2 + nfm.getAscent() / 2);
        }
    }

    /** The plot rectangle and the map from data to pixels. */
    private record Frame(int left, int top, int w, int h, Axis x, Axis y) {
        double px(double v) { return left + x.fraction(v) * w; }
        double py(double v) { return top + (1 - y.fraction(v)) * h; }
    }
}
