package org.mae4j.examples.viz;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A confusion matrix as a picture: rows are the true classes, columns the predicted ones, each cell shaded by
 * the fraction of its row and labelled with its count; the diagonal is the per-class accuracy.
 */
public final class ConfusionMatrix {
    private ConfusionMatrix() {}

    /** Writes counts[true][predicted] with the class names (or indices when names is empty) to png, atomically. */
    public static void write(Path png, String title, long[][] counts, List<String> names) throws IOException {
        int k = counts.length;
        for (long[] row : counts) if (row.length != k) throw new IllegalArgumentException("confusion matrix must be square, got a row of " + row.length + " in " + k);
        if (!names.isEmpty() && names.size() != k) throw new IllegalArgumentException(names.size() + " class names for " + k + " classes");
        int cell = Math.max(28, Math.min(64, 640 / Math.max(1, k))), left = 130, top = 60;
        int w = left + k * cell + 20, h = top + k * cell + 110;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 10, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString("rows: true class, columns: predicted class", 10, 40);
        for (int i = 0; i < k; i++) {
            long total = 0;
            for (long v : counts[i]) total += v;
            for (int j = 0; j < k; j++) {
                double f = total == 0 ? 0 : (double) counts[i][j] / total;
                int shade = (int) Math.round(255 * (1 - f));
                g.setColor(i == j ? new Color(shade, 255 - (255 - shade) / 3, shade) : new Color(255, shade, shade));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                g.setColor(f > 0.6 ? Color.WHITE : Color.BLACK);
                String s = Long.toString(counts[i][j]);
                g.drawString(s, left + j * cell + (cell - g.getFontMetrics().stringWidth(s)) / 2, top + i * cell + cell / 2 + 4);
            }
            g.setColor(Color.BLACK);
            String name = names.isEmpty() ? Integer.toString(i) : names.get(i);
            g.drawString(shorten(name, 18) + String.format(Locale.ROOT, " %.0f%%", total == 0 ? 0 : 100.0 * counts[i][i] / total), 6, top + i * cell + cell / 2 + 4);
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, k * cell, k * cell);
        g.setColor(Color.BLACK);
        for (int j = 0; j < k; j++) {
            String name = names.isEmpty() ? Integer.toString(j) : names.get(j);
            Graphics2D r = (Graphics2D) g.create();
            r.translate(left + j * cell + cell / 2 + 4, top + k * cell + 6);
            r.rotate(Math.PI / 2);
            r.drawString(shorten(name, 14), 0, 0);
            r.dispose();
        }
        g.dispose();
        PngFiles.writeAtomically(img, png);
    }

    private static String shorten(String s, int max) { return s.length() <= max ? s : s.substring(0, max - 1) + "."; }
}
