package org.mae4j.examples.viz;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The label-efficiency summary of a study (docs/study2/run.sh): test top-1 per arm (fine-tuning, probe, k-NN,
 * scratch, ...) and label fraction, as the mean over label seeds with its spread (smallest and largest seed), as a
 * Markdown table and as a chart with a log axis of the label fraction and the seeds' spread as error bars.
 */
public final class LabelEfficiency {
    private LabelEfficiency() {}

    /** One finished run: its arm (the step's name without its label tag), label fraction, label seed, test top-1. */
    public record Point(String arm, double labels, long seed, double top1) {
        public Point {
            if (!(labels > 0)) throw new IllegalArgumentException("labels must be positive, got " + labels);
        }
    }

    /** One arm at one label fraction: the mean over its seeds, the smallest and largest, and how many seeds. */
    public record Cell(String arm, double labels, double mean, double min, double max, int seeds) {}

    /** The cells, arms in the order they first appear and fractions ascending within each. */
    public static List<Cell> cells(List<Point> points) {
        Map<String, TreeMap<Double, List<Double>>> by = new LinkedHashMap<>();
        for (Point p : points) by.computeIfAbsent(p.arm(), a -> new TreeMap<>()).computeIfAbsent(p.labels(), l -> new ArrayList<>()).add(p.top1());
        List<Cell> cells = new ArrayList<>();
        by.forEach((arm, fractions) -> fractions.forEach((labels, v) -> cells.add(new Cell(arm, labels,
                v.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
                v.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                v.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), v.size()))));
        return cells;
    }

    /** "| arm | 1% | 10% | 100% |" with "mean (min-max, n seeds)" cells; "-" where an arm has no run at a fraction. */
    public static String table(List<Cell> cells) {
        TreeSet<Double> fractions = new TreeSet<>();
        Map<String, Map<Double, Cell>> by = new LinkedHashMap<>();
        for (Cell c : cells) {
            fractions.add(c.labels());
            by.computeIfAbsent(c.arm(), a -> new LinkedHashMap<>()).put(c.labels(), c);
        }
        StringBuilder b = new StringBuilder("| arm |");
        for (double f : fractions) b.append(' ').append(fractionLabel(f)).append(" labels |");
        b.append("\n|---|").append("---|".repeat(fractions.size())).append('\n');
        by.forEach((arm, row) -> {
            b.append("| ").append(arm).append(" |");
            for (double f : fractions) {
                Cell c = row.get(f);
                b.append(' ').append(c == null ? "-" : c.seeds() == 1 ? pct(c.mean())
                        : String.format(Locale.ROOT, "%s (%.2f-%.2f, %d seeds)", pct(c.mean()), 100 * c.min(), 100 * c.max(), c.seeds())).append(" |");
            }
            b.append('\n');
        });
        return b.toString();
    }

    /** The chart: top-1 % against the label fraction (log axis), one line per arm, error bars from the smallest to the largest seed. */
    public static void chart(List<Cell> cells, String title, Path png) throws IOException {
        Map<String, YIntervalSeries> series = new LinkedHashMap<>();
        for (Cell c : cells) series.computeIfAbsent(c.arm(), YIntervalSeries::new).add(c.labels(), 100 * c.mean(), 100 * c.min(), 100 * c.max());
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        series.values().forEach(data::addSeries);
        LogAxis x = new LogAxis("labelled training images (fraction of the training set, log scale)");
        x.setSmallestValue(1e-4);
        x.setNumberFormatOverride(new FractionFormat());
        x.setTickUnit(new NumberTickUnit(1));   // one tick per decade: 1%, 10%, 100%
        NumberAxis y = new NumberAxis("test top-1 %");
        y.setAutoRangeIncludesZero(false);
        XYErrorRenderer r = new XYErrorRenderer();
        r.setDefaultLinesVisible(true);
        r.setDefaultShapesVisible(true);
        r.setErrorStroke(new BasicStroke(1.5f));
        r.setCapLength(6);
        for (int i = 0; i < data.getSeriesCount(); i++) r.setSeriesStroke(i, new BasicStroke(2f));
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.RIGHT);
        // written whole into memory, then atomically: a reader never sees half a picture
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(bytes, chart, 1000, 560);
        org.mae4j.io.AtomicFiles.write(png, os -> bytes.writeTo(os));
    }

    /** 0.01 -> "1%", 0.1 -> "10%", 1 -> "100%"; a count of images (above 1) as itself. */
    static String fractionLabel(double f) {
        if (f > 1) return String.format(Locale.ROOT, "%.0f", f);
        return new DecimalFormat("0.###", java.text.DecimalFormatSymbols.getInstance(Locale.ROOT)).format(100 * f) + "%";
    }

    private static String pct(double v) { return String.format(Locale.ROOT, "%.2f%%", 100 * v); }

    /** The log axis's tick labels as percentages. */
    private static final class FractionFormat extends NumberFormat {
        @Override public StringBuffer format(double v, StringBuffer to, FieldPosition pos) { return to.append(fractionLabel(v)); }
        @Override public StringBuffer format(long v, StringBuffer to, FieldPosition pos) { return to.append(fractionLabel(v)); }
        @Override public Number parse(String s, ParsePosition pos) { throw new UnsupportedOperationException("labels only"); }
    }
}
