package org.mae4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A test set is scored by label index, so its indices must mean the training set's classes. Two class folders
 * number their classes each by their own sorted names: {bird, fish} scored against a model of {cat, dog} would
 * count every bird as a cat and score 100%, and a test folder lacking one training class would shift the
 * indices of the classes after it. These checks run when the data is opened, before any training.
 */
public final class ClassNames {
    private ClassNames() {}

    /**
     * Refuses a training set with fewer than 2 named classes: any classifier scores 100% on one class.
     *
     * @param name how the user named the data, for the message (e.g. "--data cats")
     */
    public static void requireClassifiable(ImageDataset train, String name) {
        List<String> names = train.classNames();
        if (train.hasLabels() && names.size() == 1) {
            throw new IllegalArgumentException(name + " has one class (" + names.get(0) + "): classification needs at least 2 class subdirectories");
        }
    }

    /**
     * The test set with its labels as indices into {@code trainClasses}: itself when the names are the same list,
     * a relabelled view when it holds some of the training classes (in its own order).
     *
     * @param trainClasses the classes the model knows, in label order (empty: unnamed, nothing to check)
     * @param name         how the user named the test data, for the message (e.g. "--test-data birds")
     * @throws IllegalArgumentException naming the test data and the classes the training set lacks
     */
    public static ImageDataset alignTo(List<String> trainClasses, ImageDataset test, String name) {
        Objects.requireNonNull(trainClasses, "trainClasses");
        List<String> names = test.classNames();
        if (!test.hasLabels() || trainClasses.isEmpty() || names.isEmpty() || names.equals(trainClasses)) return test;
        List<String> extra = new ArrayList<>();
        int[] map = new int[names.size()];
        for (int c = 0; c < names.size(); c++) {
            map[c] = trainClasses.indexOf(names.get(c));
            if (map[c] < 0) extra.add(names.get(c));
        }
        if (!extra.isEmpty()) {
            throw new IllegalArgumentException(name + " has class" + (extra.size() == 1 ? " " : "es ") + String.join(", ", extra)
                    + " that the training classes (" + abbreviated(trainClasses) + ") lack; a test set may hold only classes the model was trained on");
        }
        return new Relabelled(test, map, List.copyOf(trainClasses));
    }

    private static String abbreviated(List<String> names) {
        return names.size() <= 12 ? String.join(", ", names) : String.join(", ", names.subList(0, 12)) + ", ... " + names.size() + " in all";
    }

    /** A test set's labels mapped to the training classes' indices. */
    private record Relabelled(ImageDataset base, int[] map, List<String> classNames) implements ImageDataset {
        @Override public int size() { return base.size(); }
        @Override public int channels() { return base.channels(); }
        @Override public int imageSize() { return base.imageSize(); }
        @Override public boolean hasLabels() { return true; }
        @Override public int label(int i) { return map[base.label(i)]; }
        @Override public void image(int i, float[] dst, int offset) { base.image(i, dst, offset); }
        @Override public String toString() { return base + " (labels as the training classes')"; }
    }
}
