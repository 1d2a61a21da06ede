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
