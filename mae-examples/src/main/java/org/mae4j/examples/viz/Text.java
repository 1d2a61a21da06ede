package org.mae4j.examples.viz;

import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.List;

/** Fitting short labels into fixed boxes; the boxes stay fixed so that image sizes do not depend on fonts. */
final class Text {
    private Text() {}

    /** Smallest font size tried before giving up and letting the text be clipped. */
    static final float MIN_FONT_SIZE = 7f;

    /** Greedy word wrap; a single word wider than {@code maxWidth} stays whole on a line of its own. */
    static List<String> wrap(String text, FontMetrics fm, int maxWidth) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.trim().split("\\s+")) {
            if (word.isEmpty()) continue;
            String candidate = line.length() == 0 ? word : line + " " + word;
            if (line.length() > 0 && fm.stringWidth(candidate) > maxWidth) {
                lines.add(line.toString());
                line.setLength(0);
                line.append(word);
            } else {
                line.setLength(0);
                line.append(candidate);
            }
        }
        if (line.length() > 0) lines.add(line.toString());
        return lines;
    }

    /**
     * The largest size, from {@code base}'s own down to {@link #MIN_FONT_SIZE}, at which every text, word-wrapped
     * to {@code maxWidth}, fits in {@code maxWidth} x {@code maxHeight}; the minimum size if none does.
     */
    static Font fitting(Graphics2D g, Font base, List<String> texts, int maxWidth, int maxHeight) {
        for (float size = base.getSize2D(); size > MIN_FONT_SIZE; size -= 0.5f) {
            Font f = base.deriveFont(size);
            if (fits(g.getFontMetrics(f), texts, maxWidth, maxHeight)) return f;
        }
        return base.deriveFont(MIN_FONT_SIZE);
    }

    private static boolean fits(FontMetrics fm, List<String> texts, int maxWidth, int maxHeight) {
        for (String t : texts) {
            List<String> lines = wrap(t, fm, maxWidth);
            if (lines.size() * fm.getHeight() > maxHeight) return false;
            for (String l : lines) if (fm.stringWidth(l) > maxWidth) return false;
        }
        return true;
    }

    /** Draws lines centred on {@code cx}, the block vertically centred in [top, top + height). */
    static void drawCentered(Graphics2D g, List<String> lines, int cx, int top, int height) {
        FontMetrics fm = g.getFontMetrics();
        int y = top + (height - lines.size() * fm.getHeight()) / 2 + fm.getAscent();
        for (String l : lines) {
            g.drawString(l, cx - fm.stringWidth(l) / 2, y);
            y += fm.getHeight();
        }
    }
}
