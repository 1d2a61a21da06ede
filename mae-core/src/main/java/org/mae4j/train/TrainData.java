package org.mae4j.train;

import org.mae4j.data.Transform;
import org.mae4j.data.Batch;
import org.mae4j.data.BatchLoader;
import org.mae4j.data.ImageDataset;

import java.util.Objects;

/**
 * The training samples of a job as the engine reads them: epochs of shuffled batches whose order, content and
 * augmentation are pure functions of (seed, epoch, position in the epoch), so a resumed epoch and a batch split
 * across processes see exactly what one uninterrupted process sees.
 */
public interface TrainData {
    /** Samples per epoch (the last size % batch of each epoch's order are dropped). */
    int size();

    /** Floats per sample. */
    int sampleLength();

    /**
     * The batches of one epoch from batch {@code fromBatch} on, each cut to the share
     * [shareOffset, shareOffset + shareSize) of its {@code batch} samples.
     */
    Source open(long seed, int epoch, int fromBatch, int batch, int shareOffset, int shareSize);

    /** An open epoch. */
    interface Source extends AutoCloseable {
        Batch next();
        @Override void close();
    }

    /** Images of a dataset, augmented per sample (prepared on a background thread). */
    static TrainData images(ImageDataset dataset, Transform augment) {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(augment, "augment");
        return new TrainData() {
            @Override public int size() { return dataset.size(); }
            @Override public int sampleLength() { return dataset.imageLength(); }
            @Override public Source open(long seed, int epoch, int fromBatch, int batch, int shareOffset, int shareSize) {
                BatchLoader loader = BatchLoader.epoch(dataset, batch, augment, seed, epoch, fromBatch, shareOffset, shareSize);
                return new Source() {
                    @Override public Batch next() { return loader.next(); }
                    @Override public void close() { loader.close(); }
                };
            }
            @Override public String toString() { return dataset + " with " + augment; }
        };
    }

    /**
     * Fixed feature vectors (n rows of d floats) with their labels, e.g. a frozen encoder's features for the
     * linear probe; shuffled each epoch with {@link BatchLoader#epochOrder}.
     */
    static TrainData features(float[] x, int[] labels, int d) {
        Objects.requireNonNull(x, "features");
        if (d < 1 || x.length % d != 0) throw new IllegalArgumentException("features: " + x.length + " floats are not rows of " + d);
        int n = x.length / d;
        if (labels != null && labels.length != n) throw new IllegalArgumentException("features: " + n + " rows but " + labels.length + " labels");
        return new TrainData() {
            @Override public int size() { return n; }
            @Override public int sampleLength() { return d; }
            @Override public Source open(long seed, int epoch, int fromBatch, int batch, int shareOffset, int shareSize) {
                int[] order = BatchLoader.epochOrder(n, seed, epoch);
                return new Source() {
                    int b = fromBatch;
                    @Override public Batch next() {
                        if ((long) (b + 1) * batch > n) throw new java.util.NoSuchElementException("epoch " + epoch + " has " + n / batch + " batches");
                        float[] rows = new float[shareSize * d];
                        int[] y = labels == null ? null : new int[shareSize];
                        int[] idx = new int[shareSize];
                        for (int j = 0; j < shareSize; j++) {
                            int i = order[b * batch + shareOffset + j];
                            System.arraycopy(x, i * d, rows, j * d, d);
                            if (y != null) y[j] = labels[i];
                            idx[j] = i;
                        }
                        return new Batch(rows, y, idx, shareSize, epoch, b++);
                    }
                    @Override public void close() {}
                };
            }
            @Override public String toString() { return n + " feature vectors of " + d; }
        };
    }
}
