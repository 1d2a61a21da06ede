package org.mae4j.data;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * The labelled images of a label-efficiency run ({@code --labels}): the same number of images of every class,
 * drawn from a pool of training images by a seeded shuffle within each class. A pure function of the pool's
 * labels, the amount and the seed, so every run, process and resume with them trains on the same images; and
 * each class has its own generator, so for one seed a smaller amount draws a subset of a larger one's images
 * (the 1% images are among the 10% ones).
 *
 * @param images   the labelled images (the pool itself when the amount is {@link Amount#ALL})
 * @param amount   what was asked for
 * @param seed     the seed of the draw
 * @param perClass how many images of each class were drawn (index: the label)
 * @param poolSize how many training images they were drawn from
 */
public record LabelSubset(ImageDataset images, Amount amount, long seed, int[] perClass, int poolSize) {
    public LabelSubset {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(amount, "amount");
        if (Arrays.stream(perClass).anyMatch(k -> k < 0) || Arrays.stream(perClass).sum() != images.size() || poolSize < images.size()) {
            throw new IllegalArgumentException("per-class counts " + Arrays.toString(perClass) + " do not add up to the " + images.size()
                    + " images of a pool of " + poolSize);
        }
        perClass = perClass.clone();
    }

    @Override public int[] perClass() { return perClass.clone(); }

    /**
     * How many labelled images a run uses: all of them, a fraction of the training set, or a count (a multiple
     * of the classes). Exactly one of fraction and count is set: {@code fraction} in (0, 1] with count 0, or
     * {@code count} >= 1 with fraction 0.
     */
    public record Amount(double fraction, int count) {
        /** Every training image: no draw (today's runs). */
        public static final Amount ALL = new Amount(1, 0);
        private static final Pattern WHOLE = Pattern.compile("[0-9]+");
        private static final Pattern DECIMAL = Pattern.compile("([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");

        public Amount {
            if (count == 0 && !(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException(fraction + " is not a fraction in (0, 1]");
            if (count < 0 || (count > 0 && fraction != 0)) throw new IllegalArgumentException("a label amount is a fraction in (0, 1] or a count >= 1, got fraction "
                    + fraction + " and count " + count);
        }

        public static Amount fraction(double f) { return new Amount(f, 0); }
        public static Amount count(int n) {
            if (n < 1) throw new IllegalArgumentException(n + " is not a count of at least one labelled image");
            return new Amount(0, n);
        }

        /**
         * "0.01" (a fraction: it has a decimal point or an exponent), "600" (a count), "1" (all: a count of one
         * image could never cover two classes). Messages start with the text, for the caller to name its option.
         */
        public static Amount parse(String text) {
            Objects.requireNonNull(text, "text");
            if (WHOLE.matcher(text).matches()) {
                long n;
                try {
                    n = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    n = Long.MAX_VALUE;
                }
                if (n == 1) return ALL;
                if (n == 0) throw new IllegalArgumentException(text + " is no labelled image at all: give a fraction in (0, 1] (like 0.01) or a count (like 600)");
                if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(text + " labelled images are more than any dataset holds");
                return count((int) n);
            }
            if (!DECIMAL.matcher(text).matches()) {
                throw new IllegalArgumentException(text + " is neither a fraction in (0, 1] (like 0.01) nor a whole number of labelled images (like 600)");
            }
            double f = Double.parseDouble(text);
            if (!(f > 0 && f <= 1)) throw new IllegalArgumentException(text + " is not a fraction in (0, 1] (or a whole number of labelled images, like 600)");
            return fraction(f);
        }

        /** Whether this is every image (no draw). */
        public boolean all() { return count == 0 && fraction == 1; }

        /**
         * Images per class for a training set of n images and this many classes: round(fraction x n / classes),
         * or count / classes; refused when that is below one or a count does not split evenly.
         */
        public int perClass(int n, int classes) {
            if (classes < 1) throw new IllegalArgumentException(this + " labels need labelled data, and this has no classes");
            if (count > 0) {
                if (count < classes) throw new IllegalArgumentException(this + " is fewer than the " + classes + " classes: a class-balanced subset needs at least one image of each");
                if (count % classes != 0) {
                    throw new IllegalArgumentException(this + " is not a multiple of the " + classes + " classes (a class-balanced subset has as many of each): "
                            + count / classes * classes + " or " + (count / classes + 1) * classes + " would be");
                }
                return count / classes;
            }
            long k = Math.round(fraction * n / classes);
            if (k < 1) throw new IllegalArgumentException(this + " of " + n + " training images is " + k + " per class of " + classes + " classes: at least one per class is needed");
            return (int) k;
        }

        /** The canonical text, which {@link #parse} reads back: "0.01", "600", "1". */
        @Override
        public String toString() {
            return count > 0 ? Integer.toString(count) : BigDecimal.valueOf(fraction).stripTrailingZeros().toPlainString();
        }
    }

    /**
     * Draws the labelled images from pool: every image for {@link Amount#ALL}, else {@code amount.perClass(trainingImages,
     * classes)} of each class. trainingImages is the whole training set the fraction is of (before any validation
     * split was carved out of it, so that "1% of the labels" is the same number of images whether or not a command
     * holds one out); pool is what is left to draw from. Refused, with a message that starts with the amount, when a
     * class has fewer images in the pool than asked.
     */
    public static LabelSubset draw(ImageDataset pool, Amount amount, int trainingImages, long seed) {
        int[][] byClass = Split.positionsByClass(pool);
        int[] perClass = new int[byClass.length];
        if (amount.all()) {
            for (int c = 0; c < byClass.length; c++) perClass[c] = byClass[c].length;
            return new LabelSubset(pool, amount, seed, perClass, pool.size());
        }
        int k = amount.perClass(trainingImages, byClass.length);
        List<String> names = pool.classNames();
        for (int c = 0; c < byClass.length; c++) {
            if (byClass[c].length < k) {
                throw new IllegalArgumentException(amount + " asks for " + k + " images per class, but class " + c + " (" + names.get(c) + ") has only "
                        + byClass[c].length + " in the " + pool);
            }
        }
        int[] chosen = new int[k * byClass.length];
        for (int c = 0; c < byClass.length; c++) {
            // one generator per class: a class's draw depends on the seed and its own images only
            int[] drawn = Split.sample(byClass[c], k, new Random(Seeds.mix64(Seeds.mix64(seed ^ 0x1ABE15L) + c)));
            System.arraycopy(drawn, 0, chosen, c * k, k);
            perClass[c] = k;
        }
        Arrays.sort(chosen);
        // indices into the pool's own base when the pool is a split, so that the subset is one level deep and its
        // indices compare with the validation split's
        ImageDataset base = pool;
        if (pool instanceof Split s) {
            base = s.base();
            int[] into = s.indices();
            for (int i = 0; i < chosen.length; i++) chosen[i] = into[chosen[i]];
        }
        return new LabelSubset(new Split(base, chosen, "labelled subset (" + chosen.length + ")"), amount, seed, perClass, pool.size());
    }

    /** "60 per class x 10 classes = 600 of 54000 training images (seed 0)", or "all 54000 training images (...)". */
    @Override
    public String toString() {
        int min = Arrays.stream(perClass).min().orElse(0), max = Arrays.stream(perClass).max().orElse(0);
        String each = (min == max ? Integer.toString(min) : min + "-" + max) + " per class x " + perClass.length + " classes";
        if (amount.all()) return "all " + poolSize + " training images (" + each + ")";
        return each + " = " + images.size() + " of " + poolSize + " training images (seed " + seed + ")";
    }
}
