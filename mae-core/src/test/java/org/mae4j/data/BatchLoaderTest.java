package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchLoaderTest {

    /**
     * Image i is 2x2 grey, every pixel equal to i, labelled i % 3: a batch shows which images it holds. It can
     * throw at one index and sleep per image.
     */
    private static final class IndexDataset implements ImageDataset {
        final int size;
        final boolean labeled;
        final int failAt;
        final long sleepMs;
        final RuntimeException failure = new IllegalStateException("synthetic failure");

        IndexDataset(int size, boolean labeled, int failAt, long sleepMs) {
            this.size = size;
            this.labeled = labeled;
            this.failAt = failAt;
            this.sleepMs = sleepMs;
        }

        IndexDataset(int size) {
            this(size, true, -1, 0);
        }

        @Override public int size() { return size; }
        @Override public int channels() { return 1; }
        @Override public int imageSize() { return 2; }
        @Override public boolean hasLabels() { return labeled; }
        @Override public int label(int i) { return i % 3; }
        @Override public List<String> classNames() { return labeled ? List.of("a", "b", "c") : List.of(); }

        @Override
        public void image(int i, float[] dst, int offset) {
            if (i == failAt) throw failure;
            if (sleepMs > 0) {
                try {
                    Thread.sleep(sleepMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeException(e);
                }
            }
            Arrays.fill(dst, offset, offset + 4, i);
        }
    }

    /** Random pixels per image, the same every call: for checking augmentation determinism. */
    private static final class NoiseDataset implements ImageDataset {
        @Override public int size() { return 20; }
        @Override public int channels() { return 1; }
        @Override public int imageSize() { return 8; }
        @Override public boolean hasLabels() { return false; }
        @Override public int label(int i) { throw new IllegalStateException("unlabeled"); }
        @Override public List<String> classNames() { return List.of(); }

        @Override
        public void image(int i, float[] dst, int offset) {
            Random r = new Random(1000 + i);
            for (int p = 0; p < 64; p++) dst[offset + p] = r.nextFloat();
        }
    }

    /** Dataset indices of one epoch's batches, checking that each batch's pixels and labels match them. */
    private static int[] epoch(BatchLoader loader, int expectedEpoch, int batchSize) {
        List<Integer> seen = new ArrayList<>();
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            Batch batch = loader.next();
            assertEquals(expectedEpoch, batch.epoch());
            assertEquals(b, batch.indexInEpoch());
            assertTrue(batch.n() <= batchSize);
            assertEquals(batch.n() * 4, batch.images().length);
            for (int j = 0; j < batch.n(); j++) {
                int i = batch.indices()[j];
                for (int p = 0; p < 4; p++) assertEquals(i, batch.images()[j * 4 + p], "pixels of image " + i);
                if (batch.labels() != null) assertEquals(i % 3, batch.labels()[j], "label of image " + i);
                seen.add(i);
            }
            batch.release();
        }
        return seen.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void everyIndexOncePerEpochWithMatchingLabels() {
        try (BatchLoader loader = new BatchLoader(new IndexDataset(23), 5, false, Augment.none(1), 1, 0)) {
            assertEquals(5, loader.batchesPerEpoch());
            for (int e = 0; e < 3; e++) {
                int[] order = epoch(loader, e, 5);
                assertArrayEquals(BatchLoader.epochOrder(23, 1, e), order);
                int[] sorted = order.clone();
                Arrays.sort(sorted);
                int[] all = new int[23];
                Arrays.setAll(all, i -> i);
                assertArrayEquals(all, sorted, "epoch " + e + " visits every index exactly once");
            }
        }
    }

    @Test
    void lastBatchIsSmallerWithoutDropLast() {
        try (BatchLoader loader = new BatchLoader(new IndexDataset(10), 4, false, Augment.none(1), 2, 0)) {
            assertEquals(3, loader.batchesPerEpoch());
            int[] sizes = new int[3];
            for (int b = 0; b < 3; b++) {
                Batch batch = loader.next();
                sizes[b] = batch.n();
                assertEquals(batch.n() * 4, batch.images().length, "images holds exactly n images");
            }
            assertArrayEquals(new int[] {4, 4, 2}, sizes);
            assertEquals(1, loader.next().epoch());
        }
    }

    @Test
    void dropLastSkipsTheRemainderEachEpoch() {
        try (BatchLoader loader = new BatchLoader(new IndexDataset(10), 4, true, Augment.none(1), 2, 0)) {
            assertEquals(2, loader.batchesPerEpoch());
            for (int e = 0; e < 3; e++) {
                int[] seen = epoch(loader, e, 4);
                assertEquals(8, seen.length);
                assertArrayEquals(Arrays.copyOf(BatchLoader.epochOrder(10, 2, e), 8), seen);
                assertEquals(8, Arrays.stream(seen).distinct().count());
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(new IndexDataset(3), 4, true, Augment.none(1), 0, 0));
    }

    @Test
    void sameSeedAndEpochGiveTheSameOrderAcrossRestarts() {
        int[] e0, e1, resumed, otherSeed;
        try (BatchLoader a = new BatchLoader(new IndexDataset(40), 8, false, Augment.none(1), 77, 0)) {
            e0 = epoch(a, 0, 8);
            e1 = epoch(a, 1, 8);
        }
        try (BatchLoader b = new BatchLoader(new IndexDataset(40), 8, false, Augment.none(1), 77, 1)) {
            resumed = epoch(b, 1, 8);
        }
        try (BatchLoader c = new BatchLoader(new IndexDataset(40), 8, false, Augment.none(1), 78, 0)) {
            otherSeed = epoch(c, 0, 8);
        }
        assertArrayEquals(e1, resumed, "a run resumed at epoch 1 sees epoch 1's order");
        assertFalse(Arrays.equals(e0, e1), "epochs are shuffled differently");
        assertFalse(Arrays.equals(e0, otherSeed), "seeds are shuffled differently");
        int[] identity = new int[40];
        Arrays.setAll(identity, i -> i);
        assertFalse(Arrays.equals(identity, e0), "epoch 0 is shuffled");
    }

    @Test
    void augmentationIsReproducibleAndVariesByEpoch() {
        float[][] first = new float[2][], second = new float[2][];
        for (float[][] run : new float[][][] {first, second}) {
            try (BatchLoader l = new BatchLoader(new NoiseDataset(), 20, false, Augment.mae(1), 5, 0)) {
                for (int e = 0; e < 2; e++) {
                    Batch b = l.next();
                    run[e] = b.images().clone();
                    b.release();
                }
            }
        }
        assertArrayEquals(first[0], second[0]);
        assertArrayEquals(first[1], second[1]);
        float[] resumed;
        try (BatchLoader l = new BatchLoader(new NoiseDataset(), 20, false, Augment.mae(1), 5, 1)) {
            resumed = l.next().images().clone();
        }
        assertArrayEquals(first[1], resumed, "augmentation of epoch 1 does not depend on having run epoch 0");
        assertFalse(Arrays.equals(first[0], first[1]));
        // Images after augmentation are not the raw pixels.
        float[] raw = new float[64];
        new NoiseDataset().image(0, raw, 0);
        assertFalse(Arrays.equals(raw, Arrays.copyOf(first[0], 64)));
    }

    @Test
    void unlabeledDatasetsGiveNullLabels() {
        try (BatchLoader l = new BatchLoader(new IndexDataset(6, false, -1, 0), 3, false, Augment.none(1), 0, 0)) {
            assertNull(l.next().labels());
        }
    }

    @Test
    void finiteLoaderStopsAfterEndEpoch() {
        try (BatchLoader l = new BatchLoader(new IndexDataset(7), 3, false, Augment.none(1), 0, 2, 4)) {
            int count = 0;
            while (l.hasNext()) {
                Batch b = l.next();
                assertEquals(2 + count / 3, b.epoch());
                count++;
            }
            assertEquals(6, count);
            NoSuchElementException e = assertThrows(NoSuchElementException.class, l::next);
            assertTrue(e.getMessage().contains("epochs 2..3"), e.getMessage());
        }
    }

    @Test
    void releasedBuffersAreReusedWithoutCorruptingLaterBatches() {
        try (BatchLoader l = new BatchLoader(new IndexDataset(64), 4, true, Augment.none(1), 3, 0)) {
            java.util.Set<float[]> arrays = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (int e = 0; e < 4; e++) {
                for (int b = 0; b < l.batchesPerEpoch(); b++) {
                    Batch batch = l.next();
                    float[] images = batch.images();
                    arrays.add(images);
                    for (int j = 0; j < 4; j++) assertEquals(batch.indices()[j], images[j * 4]);
                    batch.release();
                    batch.release(); // twice is harmless
                    assertTrue(batch.released());
                    assertThrows(IllegalStateException.class, batch::images);
                }
            }
            assertTrue(arrays.size() <= BatchLoader.QUEUED + 3, arrays.size() + " distinct buffers for 64 batches");
        }
    }

    @Test
    void closeEndsTheWorkerPromptly() throws InterruptedException {
        // 200 ms per image: the worker is busy or blocked on a full queue when close() comes.
        BatchLoader l = new BatchLoader(new IndexDataset(1000, true, -1, 200), 2, false, Augment.none(1), 0, 0);
        Thread worker = l.worker();
        assertTrue(worker.isAlive());
        assertTrue(worker.isDaemon());
        l.next();
        long t0 = System.nanoTime();
        l.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(worker.isAlive(), "worker still running after close()");
        assertTrue(ms < 2000, "close() took " + ms + " ms");
        assertFalse(l.hasNext());
        assertThrows(NoSuchElementException.class, l::next);
        l.close(); // idempotent
    }

    @Test
    void closeFromAnotherThreadWakesABlockedConsumer() throws Exception {
        BatchLoader l = new BatchLoader(new IndexDataset(10, true, -1, 60_000), 2, false, Augment.none(1), 0, 0);
        Throwable[] thrown = new Throwable[1];
        Thread consumer = new Thread(() -> {
            try {
                l.next();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        consumer.start();
        Thread.sleep(100);
        l.close();
        consumer.join(5000);
        assertFalse(consumer.isAlive(), "consumer still blocked after close()");
        assertTrue(thrown[0] instanceof NoSuchElementException, String.valueOf(thrown[0]));
    }

    @Test
    void workerExceptionReachesTheConsumerWithItsCause() {
        IndexDataset d = new IndexDataset(12, true, 5, 0);
        try (BatchLoader l = new BatchLoader(d, 4, false, Augment.none(1), 9, 0)) {
            int position = -1;
            int[] order = BatchLoader.epochOrder(12, 9, 0);
            for (int k = 0; k < 12; k++) if (order[k] == 5) position = k;
            int failingBatch = position / 4;
            for (int b = 0; b < failingBatch; b++) assertEquals(b, l.next().indexInEpoch(), "earlier batches arrive");
            IllegalStateException e = assertThrows(IllegalStateException.class, l::next);
            assertSame(d.failure, e.getCause());
            assertTrue(e.getMessage().contains("epoch 1, batch " + (failingBatch + 1) + ":")
                    && e.getMessage().contains("synthetic failure"), e.getMessage());
            IllegalStateException again = assertThrows(IllegalStateException.class, l::next);
            assertSame(d.failure, again.getCause());
        }
    }

    @Test
    void badArguments() {
        IndexDataset d = new IndexDataset(10);
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 0, false, Augment.none(1), 0, 0));
        IllegalArgumentException ch = assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(d, 2, false, Augment.mae(3), 0, 0));
        assertTrue(ch.getMessage().contains("3 channels") && ch.getMessage().contains("has 1"), ch.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 2, false, Augment.none(1), 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 2, false, Augment.none(1), 0, 3, 3));
        assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(new IndexDataset(0), 2, false, Augment.none(1), 0, 0));
    }

    @Test
    void epochOrderIsAPermutationAndStable() {
        int[] a = BatchLoader.epochOrder(1000, 123, 4);
        assertArrayEquals(a, BatchLoader.epochOrder(1000, 123, 4));
        assertEquals(1000, Arrays.stream(a).distinct().count());
        assertFalse(Arrays.equals(a, BatchLoader.epochOrder(1000, 123, 5)));
    }
}
