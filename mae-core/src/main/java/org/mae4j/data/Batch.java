package org.mae4j.data;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * n images ready for the model, as {@link BatchLoader} yields them: {@code images} holds n*C*H*W floats (image j
 * at j*C*H*W, each in the dataset's CHW layout, augmented and normalized), {@code labels[j]} its class (null for
 * an unlabeled dataset) and {@code indices[j]} its index in the dataset.
 *
 * <p>A class rather than a record because of {@link #release()}: the loader recycles the float buffers of
 * released batches, and a batch must remember that it was released so that it is recycled at most once and so
 * that {@link #images()} fails loudly afterwards instead of returning an array being refilled. Its accessors are
 * named as a record's would be.
 */
public final class Batch {

    private final float[] images;
    private final int[] labels;
    private final int[] indices;
    private final int n;
    private final int epoch;
    private final int indexInEpoch;
    private final Consumer<float[]> recycler;
    private final AtomicBoolean released = new AtomicBoolean();

    /**
     * A batch owned by the caller (release() only marks it released).
     *
     * @param images       n*C*H*W floats
     * @param labels       n labels, or null
     * @param indices      n dataset indices, or null if the images do not come from a dataset
     * @param n            number of images, at least 1
     * @param epoch        the epoch the batch belongs to
     * @param indexInEpoch the batch's position in its epoch, from 0
     */
    public Batch(float[] images, int[] labels, int[] indices, int n, int epoch, int indexInEpoch) {
        this(images, labels, indices, n, epoch, indexInEpoch, null);
    }

    Batch(float[] images, int[] labels, int[] indices, int n, int epoch, int indexInEpoch,
          Consumer<float[]> recycler) {
        Objects.requireNonNull(images, "images");
        if (n < 1) throw new IllegalArgumentException("a batch needs at least 1 image, got n = " + n);
        if (images.length % n != 0 || images.length == 0) {
            throw new IllegalArgumentException("images has " + images.length + " floats, not a positive multiple of n = " + n);
        }
        if (labels != null && labels.length != n) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries, expected n = " + n);
        }
        if (indices != null && indices.length != n) {
            throw new IllegalArgumentException("indices has " + indices.length + " entries, expected n = " + n);
        }
        this.images = images;
        this.labels = labels;
        this.indices = indices;
        this.n = n;
        this.epoch = epoch;
        this.indexInEpoch = indexInEpoch;
        this.recycler = recycler;
    }

    /**
     * The n*C*H*W floats. The array is the batch's own (not a copy) until {@link #release()}.
     *
     * @throws IllegalStateException after release()
     */
    public float[] images() {
        if (released.get()) {
            throw new IllegalStateException("batch " + indexInEpoch + " of epoch " + epoch + " was released; its "
                    + "image buffer may already hold another batch");
        }
        return images;
    }

    /** Class labels, one per image, or null for an unlabeled dataset. */
    public int[] labels() {
        return labels;
    }

    /** Dataset index of each image (null only for batches built by hand without them). */
    public int[] indices() {
        return indices;
    }

    /** Number of images. */
    public int n() {
        return n;
    }

    /** Floats per image, C*H*W. */
    public int imageLength() {
        return images.length / n;
    }

    /** The epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** Position of this batch within its epoch, from 0. */
    public int indexInEpoch() {
        return indexInEpoch;
    }

    /**
     * Hands the image buffer back for reuse; call it once the floats have been copied or consumed (e.g. after
     * copying them into the model's input array). Nothing may read an array obtained from {@link #images()}
     * after this. Calling it again does nothing; not calling it is safe and only costs a fresh allocation.
     */
    public void release() {
        if (released.compareAndSet(false, true) && recycler != null) recycler.accept(images);
    }

    /** Whether {@link #release()} has been called. */
    public boolean released() {
        return released.get();
    }

    @Override
    public String toString() {
        return "Batch[n=" + n + ", epoch=" + epoch + ", indexInEpoch=" + indexInEpoch
                + (labels == null ? ", unlabeled" : "") + (released.get() ? ", released" : "") + "]";
    }
}
