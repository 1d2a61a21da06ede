package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.mae4j.io.Mutations;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutations of valid IDX image and label files, raw and gzip-compressed, must read or fail with an IOException
 * whose one-line message names the file; never anything else, never a hang.
 */
class FashionMnistFuzzTest {
    private static final Duration BUDGET = Duration.ofSeconds(60);
    private static final int N = 3;

    private static byte[] images() {
        ByteBuffer b = ByteBuffer.allocate(16 + N * 784).putInt(FashionMnist.IMAGES_MAGIC).putInt(N).putInt(28).putInt(28);
        for (int i = 0; i < N * 784; i++) b.put((byte) (i * 7));
        return b.array();
    }

    private static byte[] labels() {
        return ByteBuffer.allocate(8 + N).putInt(FashionMnist.LABELS_MAGIC).putInt(N).put((byte) 3).put((byte) 0).put((byte) 9).array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(raw);
        }
        return o.toByteArray();
    }

    private static void readImages(byte[] mutated, byte[] labels) throws IOException {
        FashionMnist.read(new ByteArrayInputStream(mutated), new ByteArrayInputStream(labels), "fuzz-idx");
    }

    @Test
    void mutatedImageFiles() throws IOException {
        byte[] labels = labels();
        Mutations.Summary raw = Mutations.fuzz(images(), 31, 3000, BUDGET, b -> readImages(b, labels), "fuzz-idx", IOException.class);
        Mutations.Summary gz = Mutations.fuzz(gzip(images()), 32, 2000, BUDGET, b -> readImages(b, labels), "fuzz-idx", IOException.class);
        assertTrue(raw.rejected() > raw.cases() / 2 && gz.rejected() > gz.cases() / 2, raw + " " + gz);
    }

    @Test
    void mutatedLabelFiles() throws IOException {
        byte[] images = images();
        Mutations.Summary raw = Mutations.fuzz(labels(), 41, 3000, BUDGET,
                b -> FashionMnist.read(new ByteArrayInputStream(images), new ByteArrayInputStream(b), "fuzz-idx"), "fuzz-idx", IOException.class);
        Mutations.Summary gz = Mutations.fuzz(gzip(labels()), 42, 2000, BUDGET,
                b -> FashionMnist.read(new ByteArrayInputStream(images), new ByteArrayInputStream(b), "fuzz-idx"), "fuzz-idx", IOException.class);
        assertTrue(raw.rejected() > raw.cases() / 2 && gz.rejected() > gz.cases() / 2, raw + " " + gz);
    }

    /** Counts near the int limits in the header, with little data behind them: refused without a huge allocation. */
    @Test
    void hugeCountsAreRefusedQuickly() {
        for (int count : new int[] {Integer.MAX_VALUE, 0x7ffffff8, 2_739_000, Integer.MIN_VALUE, -1}) {
            byte[] im = ByteBuffer.allocate(16 + 784).putInt(FashionMnist.IMAGES_MAGIC).putInt(count).putInt(28).putInt(28).array();
            byte[] lb = ByteBuffer.allocate(8 + 1).putInt(FashionMnist.LABELS_MAGIC).putInt(count).array();
            IOException e = assertThrows(IOException.class, () -> FashionMnist.read(new ByteArrayInputStream(im), new ByteArrayInputStream(lb), "huge-idx"));
            assertTrue(e.getMessage().contains("huge-idx") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
