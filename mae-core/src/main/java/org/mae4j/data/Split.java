package org.mae4j.data;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * Some images of another dataset, by index: the training and validation parts of a labeled set, held apart so
 * that choices (the best epoch, hyper-parameters) never look at the test set.
 *
 * @param base    the dataset to take from
 * @param indices which of its images, in this order
 * @param name    what the part is, for messages ("validation split (6000) of ...")
 */
public record Split(ImageDataset base, int[] indices, String name) implements ImageDataset {
    public Split {
        Objects.requireNonNull(base, "base");
        for (int i : indices) Objects.checkIndex(i, base.size());
        if (indices.length == 0) throw new IllegalArgumentException(name + " of " + base + " would be empty");
        indices = indices.clone();
    }

    /**
     * Holds out round(fraction x size) images, chosen by a seeded shuffle, as the validation part; the rest,
     * in their original order, is the training part. Returns {training, validation}.
     */
    public static Split[] holdOut(ImageDataset data, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + fraction);
        int n = data.size(), v = (int) Math.round(fraction * n);
        if (v < 1 || v >= n) throw new IllegalArgumentException("a validation fraction of " + fraction + " of " + n + " images leaves no validation or no training image");
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Random rng = new Random(seed ^ 0x5EEDF00DL);
        for (int i = n - 1; i > 0; i--) { int j = rng.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
        int[] val = Arrays.copyOf(order, v), train = Arrays.copyOfRange(order, v, n);
        Arrays.sort(val);
        Arrays.sort(train);
        return new Split[] {new Split(data, train, "training split (" + train.length + ")"), new Split(data, val, "validation split (" + val.length + ")")};
    }

    /**
     * As {@link #holdOut}, but class-stratified: every class gives fraction x its size to the validation part
     * (rounded by largest remainder, so the total is still round(fraction x size)), drawn by a seeded shuffle
     * within the class. A small labelled subset drawn from the training part is then scored on a validation part
     * with every class in its share. Only the --labels runs use it: holdOut keeps its draws for the runs that
     * reproduce earlier ones.
     */
    public static Split[] holdOutStratified(ImageDataset data, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + fraction);
        int n = data.size(), v = (int) Math.round(fraction * n);
        if (v < 1 || v >= n) throw new IllegalArgumentException("a validation fraction of " + fraction + " of " + n + " images leaves no validation or no training image");
        int[][] byClass = positionsByClass(data);
        int[] take = new int[byClass.length];
        double[] remainder = new double[byClass.length];
        int taken = 0;
        for (int c = 0; c < byClass.length; c++) {
            double quota = fraction * byClass[c].length;
            take[c] = (int) Math.floor(quota);
            remainder[c] = quota - take[c];
            taken += take[c];
        }
        // the images the floors left over go to the classes with the largest remainders (the lower class on a tie)
        for (; taken < v; taken++) {
            int best = -1;
            for (int c = 0; c < byClass.length; c++) if (take[c] < byClass[c].length && (best < 0 || remainder[c] > remainder[best])) best = c;
            take[best]++;
            remainder[best] = -1;
        }
        Random rng = new Random(Seeds.mix64(seed ^ 0x5747A71FL));
        boolean[] held = new boolean[n];
        for (int c = 0; c < byClass.length; c++) for (int p : sample(byClass[c], take[c], rng)) held[p] = true;
        int[] val = new int[v], train = new int[n - v];
        for (int i = 0, a = 0, b = 0; i < n; i++) {
            if (held[i]) val[a++] = i;
            else train[b++] = i;
        }
        return new Split[] {new Split(data, train, "training split (" + train.length + ")"), new Split(data, val, "validation split (" + val.length + ")")};
    }

    /** Positions of data's images per class (index: the label), each in data's order. */
    static int[][] positionsByClass(ImageDataset data) {
        if (!data.hasLabels()) throw new IllegalArgumentException(data + " has no labels to draw classes from");
        int classes = data.classNames().size();
        int[] count = new int[classes];
        int[] label = new int[data.size()];
        for (int i = 0; i < label.length; i++) {
            label[i] = data.label(i);
            if (label[i] < 0 || label[i] >= classes) throw new IllegalStateException(data + ": image " + i + " has label " + label[i] + " outside its " + classes + " classes");
            count[label[i]]++;
        }
        int[][] byClass = new int[classes][];
        for (int c = 0; c < classes; c++) byClass[c] = new int[count[c]];
        int[] filled = new int[classes];
        for (int i = 0; i < label.length; i++) byClass[label[i]][filled[label[i]]++] = i;
        return byClass;
    }

    /**
     * k of the given positions drawn without replacement, sorted: the first k steps of a forward Fisher-Yates
     * shuffle, so that with the same generator a larger k draws a superset of a smaller one's positions.
     */
    static int[] sample(int[] positions, int k, Random rng) {
        Objects.checkFromToIndex(0, k, positions.length);
        int[] a = positions.clone();
        for (int i = 0; i < k; i++) { int j = i + rng.nextInt(a.length - i); int t = a[i]; a[i] = a[j]; a[j] = t; }
        int[] chosen = Arrays.copyOf(a, k);
        Arrays.sort(chosen);
        return chosen;
    }

    @Override public int size() { return indices.length; }
    @Override public int channels() { return base.channels(); }
    @Override public int imageSize() { return base.imageSize(); }
    @Override public boolean hasLabels() { return base.hasLabels(); }
    @Override public List<String> classNames() { return base.classNames(); }
    @Override public void image(int i, float[] dst, int offset) { base.image(indices[i], dst, offset); }
    @Override public int label(int i) { return base.label(indices[i]); }
    @Override public int[] indices() { return indices.clone(); }
    @Override public String toString() { return name + " of " + base; }
}
