package org.mae4j.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Shuffled, augmented batches of an {@link ImageDataset}, prepared on one background thread so that decoding
 * and augmentation overlap the training step: the worker stays up to {@value #QUEUED} batches ahead.
 *
 * <p><b>Reproducibility.</b> The order of epoch e is a Fisher-Yates shuffle driven by a {@link Random} seeded
 * from (seed, e) ({@link #epochOrder}); the augmentation of the k-th image of epoch e uses a Random seeded from
 * (seed, e, k). Nothing depends on thread timing or on earlier epochs, so a run restarted at
 * {@code startEpoch = e} yields exactly the batches an uninterrupted run yields from epoch e on.
 *
 * <p><b>Epochs.</b> Batches run through the epochs back to back, the worker prefetching across the boundary;
 * {@link Batch#epoch()} and {@link Batch#indexInEpoch()} tell where each belongs. With dropLast the last
 * {@code size % batchSize} images of each epoch's order are skipped (a different subset each epoch); otherwise
 * the epoch's last batch is smaller. The six-argument constructor never runs out ({@link #hasNext()} is true
 * until {@link #close()}); the seven-argument one stops after {@code endEpoch - 1}.
 *
 * <p><b>Buffers.</b> Full batches' image arrays come from a small pool: {@link Batch#release()} returns one
 * for reuse. A consumer that never releases is still correct; each batch then gets a fresh array.
 *
 * <p><b>Errors.</b> An exception thrown by the dataset or the augmentation on the worker ends the worker; the
 * batches prepared before it are delivered, then {@link #next()} throws an {@link IllegalStateException} that
 * names the epoch and batch and carries the original exception as its cause (and does so again on every later
 * call).
 *
 * <p>One consumer thread calls {@link #hasNext()} and {@link #next()}; {@link #close()} may come from any thread.
 */
public final class BatchLoader implements AutoCloseable, Iterator<Batch> {

    /** Batches the worker may have ready ahead of the consumer. */
    static final int QUEUED = 2;
    /** Stream id of the shuffle, apart from the per-image augmentation streams (which use k >= 0). */
    private static final long SHUFFLE_STREAM = -1;
    /** Marks the queue after close(), for a consumer blocked in next() on another thread. */
    private static final Object CLOSED = new Object();

    private final ImageDataset dataset;
    private final int batchSize;
    private final boolean dropLast;
    private final Transform augment;
    private final long seed;
    private final int startEpoch;
    private final int endEpoch;              // exclusive; Integer.MAX_VALUE when unbounded
    private final boolean unbounded;
    private final int batchesPerEpoch;
    private final long totalBatches;         // Long.MAX_VALUE when unbounded
    private final int imageLength;
    private final int firstBatch;            // batch of startEpoch to begin with (a resumed epoch)
    private final int shareOffset, shareSize; // the slice of every batch this loader prepares (data parallel)

    private final BlockingQueue<Object> ready = new ArrayBlockingQueue<>(QUEUED);
    // Enough for the batches in the queue, the one being filled and the one the consumer holds.
    private final BlockingQueue<float[]> pool = new ArrayBlockingQueue<>(QUEUED + 2);
    private final Thread worker;
    private volatile boolean closed;
    private long delivered;
    private Failure failure;

    /**
     * An endless loader starting at {@code startEpoch}; see the class comment.
     *
     * @throws IllegalArgumentException if the dataset is empty, batchSize < 1, dropLast leaves no batch, the
     *                                  augmentation's channel count differs from the dataset's, or startEpoch < 0
     */
    public BatchLoader(ImageDataset dataset, int batchSize, boolean dropLast, Transform augment, long seed,
                       int startEpoch) {
        this(dataset, batchSize, dropLast, augment, seed, startEpoch, Integer.MAX_VALUE, true, 0, 0, batchSize);
    }

    /** A loader for epochs startEpoch (inclusive) to endEpoch (exclusive), e.g. a single evaluation pass. */
    public BatchLoader(ImageDataset dataset, int batchSize, boolean dropLast, Transform augment, long seed,
                       int startEpoch, int endEpoch) {
        this(dataset, batchSize, dropLast, augment, seed, startEpoch, endEpoch, false, 0, 0, batchSize);
    }

    /**
     * The training batches of one epoch (dropLast) from batch {@code fromBatch} on, each cut to its share
     * [shareOffset, shareOffset + shareSize) of the batchSize samples: the samples, their augmentation and their
     * order are those of the whole batch's positions, so W loaders with the W shares together prepare exactly
     * what one loader prepares, and a resumed epoch exactly what the uninterrupted one did.
     */
    public static BatchLoader epoch(ImageDataset dataset, int batchSize, Transform augment, long seed, int epoch, int fromBatch,
                                    int shareOffset, int shareSize) {
        if (shareSize < 1 || shareOffset < 0 || shareOffset + shareSize > batchSize) {
            throw new IllegalArgumentException("share [" + shareOffset + ", " + (shareOffset + shareSize) + ") is not inside a batch of " + batchSize);
        }
        return new BatchLoader(dataset, batchSize, true, augment, seed, epoch, epoch + 1, false, fromBatch, shareOffset, shareSize);
    }

    private BatchLoader(ImageDataset dataset, int batchSize, boolean dropLast, Transform augment, long seed,
                        int startEpoch, int endEpoch, boolean unbounded, int firstBatch, int shareOffset, int shareSize) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.augment = Objects.requireNonNull(augment, "augment");
        int size = dataset.size();
        if (size < 1) throw new IllegalArgumentException("dataset " + dataset + " has no images");
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        if (dropLast && size < batchSize) {
            throw new IllegalArgumentException("dataset has " + size + " images, fewer than batchSize " + batchSize
                    + ", so dropLast would leave no batch");
        }
        if (augment.channels() != dataset.channels()) {
            throw new IllegalArgumentException("augment normalizes " + augment.channels() + " channels but the dataset "
                    + "has " + dataset.channels());
        }
        if (startEpoch < 0) throw new IllegalArgumentException("startEpoch must be >= 0, got " + startEpoch);
        if (!unbounded && endEpoch <= startEpoch) {
            throw new IllegalArgumentException("endEpoch " + endEpoch + " must be greater than startEpoch " + startEpoch);
        }
        this.batchSize = batchSize;
        this.dropLast = dropLast;
        this.seed = seed;
        this.startEpoch = startEpoch;
        this.endEpoch = endEpoch;
        this.unbounded = unbounded;
        this.batchesPerEpoch = dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
        if (firstBatch < 0 || firstBatch > batchesPerEpoch) {
            throw new IllegalArgumentException("first batch " + firstBatch + " is outside the epoch's " + batchesPerEpoch + " batches");
        }
        this.firstBatch = firstBatch;
        this.shareOffset = shareOffset;
        this.shareSize = shareSize;
        this.totalBatches = unbounded ? Long.MAX_VALUE : (long) (endEpoch - startEpoch) * batchesPerEpoch - firstBatch;
        this.imageLength = dataset.imageLength();
        if ((long) batchSize * imageLength > Integer.MAX_VALUE - 16) {   // checked before the share: the pool holds shares
            throw new IllegalArgumentException("a batch of " + batchSize + " images of " + imageLength
                    + " floats does not fit in one Java array");
        }
        this.worker = new Thread(this::work, "mae4j-batch-loader");
        // A loader someone forgot to close must not keep the JVM alive.
        worker.setDaemon(true);
        worker.start();
    }

    /** Batches in each epoch: floor(size / batchSize) with dropLast, else the ceiling. */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /**
     * The order in which epoch {@code epoch} visits the indices 0..size-1: a pure function of its arguments
     * (the same on every JVM, since {@link Random}'s algorithm is specified).
     */
    public static int[] epochOrder(int size, long seed, int epoch) {
        if (size < 0) throw new IllegalArgumentException("size must be >= 0, got " + size);
        int[] order = new int[size];
        for (int i = 0; i < size; i++) order[i] = i;
        Random rng = new Random(mix(seed, epoch, SHUFFLE_STREAM));
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Seed of the augmentation of the k-th image (in epoch order) of the given epoch. */
    public static long sampleSeed(long seed, int epoch, int k) {
        return mix(seed, epoch, k);
    }

    /** Hashes (seed, a, b) with SplitMix64's finalizer ({@link Seeds#mix64}), so that nearby k start unrelated streams. */
    private static long mix(long seed, long a, long b) {
        long h = Seeds.mix64(seed + 0x9E3779B97F4A7C15L);
        h = Seeds.mix64(h ^ (a + 0x632BE59BD9B4E019L));
        return Seeds.mix64(h ^ (b + 0x85157AF5D2E5F4A3L));
    }

    @Override
    public boolean hasNext() {
        return !closed && delivered < totalBatches;
    }

    /**
     * The next batch, waiting for the worker if it is not ready yet.
     *
     * @throws NoSuchElementException after close() or after the last epoch
     * @throws IllegalStateException  if preparing a batch failed (the cause is the worker's exception), or if the
     *                                calling thread is interrupted while waiting
     */
    @Override
    public Batch next() {
        if (failure != null) throw failure.exception();
        if (!hasNext()) {
            throw new NoSuchElementException(closed ? "BatchLoader is closed"
                    : "BatchLoader has delivered all " + totalBatches + " batches of epochs " + startEpoch + ".."
                    + (endEpoch - 1));
        }
        Object o;
        try {
            o = ready.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next batch", e);
        }
        if (o == CLOSED) throw new NoSuchElementException("BatchLoader is closed");
        if (o instanceof Failure f) {
            failure = f;
            throw f.exception();
        }
        delivered++;
        return (Batch) o;
    }

    /**
     * Stops the worker and waits for it to end: it is interrupted, so it stops at once when waiting for room in
     * the queue, or after the image it is decoding. Idempotent.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        worker.interrupt();
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        ready.clear();
        ready.offer(CLOSED);
        pool.clear();
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** The worker thread, for tests that check it ends. */
    Thread worker() {
        return worker;
    }

    private void work() {
        int epoch = startEpoch, b = 0;
        try {
            int size = dataset.size(), c = dataset.channels(), s = dataset.imageSize();
            boolean labeled = dataset.hasLabels();
            float[] scratch = new float[imageLength];
            for (; unbounded || epoch < endEpoch; epoch++) {
                int[] order = epochOrder(size, seed, epoch);
                for (b = epoch == startEpoch ? firstBatch : 0; b < batchesPerEpoch; b++) {
                    int from = b * batchSize + shareOffset;
                    int n = Math.min(shareSize, size - from);
                    float[] images = n == shareSize ? buffer() : new float[n * imageLength];
                    int[] labels = labeled ? new int[n] : null;
                    int[] indices = new int[n];
                    for (int j = 0; j < n; j++) {
                        if (closed) return;
                        int k = from + j, i = order[k];
                        indices[j] = i;
                        dataset.image(i, scratch, 0);
                        augment.apply(scratch, 0, c, s, images, j * imageLength, new Random(sampleSeed(seed, epoch, k)));
                        if (labeled) labels[j] = dataset.label(i);
                    }
                    ready.put(new Batch(images, labels, indices, n, epoch, b,
                            n == shareSize ? this::recycle : null));
                }
                if (epoch == Integer.MAX_VALUE) break;
            }
        } catch (InterruptedException e) {
            // close(): nothing more to do.
        } catch (Throwable t) {
            // After close() an error is usually the interruption itself (e.g. an interruptible channel); drop it.
            if (closed) return;
            try {
                ready.put(new Failure(t, epoch, b));
            } catch (InterruptedException e) {
                // closed while waiting to report: nobody is left to tell.
            }
        }
    }

    private float[] buffer() {
        float[] a = pool.poll();
        return a != null ? a : new float[shareSize * imageLength];
    }

    private void recycle(float[] a) {
        if (!closed) pool.offer(a);
    }

    /** A worker exception with where it happened; turned into a fresh exception on each next() call. */
    private record Failure(Throwable cause, int epoch, int batch) {
        IllegalStateException exception() {
            // counted from 1 as the progress bar counts; the cause's own words, without its class name
            String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage().replace('\n', ' ');
            return new IllegalStateException("epoch " + (epoch + 1) + ", batch " + (batch + 1) + ": " + why,
                    cause);
        }
    }
}
