package org.mae4j.examples;

import org.mae4j.data.ImageDataset;
import org.mae4j.data.LabelSubset;
import org.mae4j.data.Split;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * --labels and --label-seed, shared by finetune, linprobe and knn (a picocli mixin): train (or keep as k-NN
 * neighbours) a class-balanced subset of the labelled training images. Not given, nothing changes: the same
 * images, the same validation split, the same records as before the option existed.
 */
final class LabelOptions {
    /** What a checkpoint without a "labels" option was made with (it predates --labels, or it was not given). */
    private static final String ALL = "all";

    @Option(names = "--labels", paramLabel = "FRACTION|COUNT",
            description = "Use a class-balanced subset of the labelled training images: a fraction of the training set in (0, 1] (0.01; 1 = all) "
                    + "or a count (600, a multiple of the classes). A validation split is then carved class-stratified first, the subset drawn from the rest. Default: all.")
    String labels;
    @Option(names = "--label-seed", paramLabel = "S", description = "Seed of the --labels draw (default 0); the subset depends only on it, the data and --labels.")
    Long labelSeed;

    private LabelSubset drawn;

    boolean given() { return labels != null; }

    private long seed() { return labelSeed == null ? 0 : labelSeed; }

    /** The parsed --labels (all when not given); a bad value is a one-line error naming --labels. */
    LabelSubset.Amount amount() {
        if (labelSeed != null && labels == null) throw new IllegalArgumentException("--label-seed needs --labels (without it every label is used and nothing is drawn)");
        if (labels == null) return LabelSubset.Amount.ALL;
        try {
            return LabelSubset.Amount.parse(labels);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--labels " + e.getMessage());
        }
    }

    /** On resume: the checkpoint's --labels and --label-seed win, a different one given is refused. */
    void resume(Resumed resumed) {
        String saved = resumed.identity("--labels", "labels", labels == null ? ALL : labels, ALL);
        labels = saved.equals(ALL) ? null : saved;
        if (labels != null) labelSeed = Long.parseLong(resumed.identity("--label-seed", "label_seed", Long.toString(seed()), "0"));
    }

    /**
     * {training, validation} out of all: without --labels Split.holdOut as ever; with it the class-stratified
     * carve, so that the validation split is --val-fraction of all images and the same for every --labels of a seed.
     */
    Split[] holdOut(ImageDataset all, double fraction, long seed) {
        return given() ? Split.holdOutStratified(all, fraction, seed) : Split.holdOut(all, fraction, seed);
    }

    /**
     * The labelled images to use out of pool (all of it without --labels), the fraction being of trainingImages
     * (the whole training set); says how many were drawn.
     */
    ImageDataset labelled(ImageDataset pool, int trainingImages) {
        LabelSubset.Amount amount = amount();
        if (!given()) return pool;
        try {
            drawn = LabelSubset.draw(pool, amount, trainingImages, seed());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--labels " + e.getMessage());
        }
        System.out.println("labels: " + drawn);
        return drawn.images();
    }

    /** What the checkpoint's recipe and the metrics' start row record of the draw (nothing without --labels). */
    Map<String, String> recorded() {
        Map<String, String> m = new LinkedHashMap<>();
        json().forEach((k, v) -> m.put(k, v instanceof int[] a ? Arrays.stream(a).mapToObj(Integer::toString).collect(Collectors.joining(",")) : v.toString()));
        return m;
    }

    /** The same for a result JSON, with numbers as numbers (the per-class counts one number when all are equal). */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (drawn == null) return m;
        int[] per = drawn.perClass();
        m.put("labels", drawn.amount().toString());
        m.put("label_seed", drawn.seed());
        m.put("labelled_images", drawn.images().size());
        m.put("labels_per_class", Arrays.stream(per).distinct().count() == 1 ? (Object) per[0] : per);
        return m;
    }
}
