package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FashionMnistTest {

    private static final int[] LABELS = {3, 0, 9};

    /** Pixel p of image i in the synthetic files: every byte value occurs, and images differ. */
    private static int pixel(int i, int p) {
        return (i * 31 + p * 7) & 0xff;
    }

    private static byte[] imagesIdx(int magic, int count, int rows, int cols, int storedImages) {
        ByteBuffer b = ByteBuffer.allocate(16 + storedImages * rows * cols); // big-endian by default
        b.putInt(magic).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < storedImages; i++) {
            for (int p = 0; p < rows * cols; p++) b.put((byte) pixel(i, p));
        }
        return b.array();
    }

    private static byte[] images() {
        return imagesIdx(2051, 3, 28, 28, 3);
    }

    private static byte[] labelsIdx(int magic, int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(magic).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    private static byte[] labels() {
        return labelsIdx(2049, LABELS);
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
            gz.write(raw);
        }
        return bo.toByteArray();
    }

    private static FashionMnist read(byte[] images, byte[] labels) throws IOException {
        return FashionMnist.read(new ByteArrayInputStream(images), new ByteArrayInputStream(labels), "synthetic");
    }

    private static void assertSynthetic(FashionMnist d) {
        assertEquals(3, d.size());
        assertEquals(1, d.channels());
        assertEquals(28, d.imageSize());
        assertEquals(784, d.imageLength());
        assertTrue(d.hasLabels());
        assertEquals(10, d.classNames().size());
        assertEquals("T-shirt/top", d.classNames().get(0));
        assertEquals("Ankle boot", d.classNames().get(9));
        float[] dst = new float[5 + 784 + 3];
        for (int i = 0; i < 3; i++) {
            Arrays.fill(dst, -7f);
            d.image(i, dst, 5);
            for (int p = 0; p < 784; p++) assertEquals(pixel(i, p) / 255f, dst[5 + p], "image " + i + " pixel " + p);
            assertEquals(-7f, dst[4], "nothing written before the offset");
            assertEquals(-7f, dst[5 + 784], "nothing written after the image");
            assertEquals(LABELS[i], d.label(i));
        }
    }

    @Test
    void readsRawAndGzipStreamsToTheSameValues() throws IOException {
        assertSynthetic(read(images(), labels()));
        assertSynthetic(read(gzip(images()), gzip(labels())));
        assertSynthetic(read(gzip(images()), labels()));
    }

    @Test
    void pixelsAreZeroToOne() throws IOException {
        FashionMnist d = read(images(), labels());
        float[] dst = new float[784];
        float min = 1, max = 0;
        for (int i = 0; i < 3; i++) {
            d.image(i, dst, 0);
            for (float v : dst) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test
    void readDoesNotCloseTheCallersStreams() throws IOException {
        boolean[] closed = new boolean[2];
        InputStream im = new ByteArrayInputStream(gzip(images())) {
            @Override public void close() { closed[0] = true; }
        };
        InputStream lb = new ByteArrayInputStream(labels()) {
            @Override public void close() { closed[1] = true; }
        };
        FashionMnist.read(im, lb, "s");
        assertFalse(closed[0] || closed[1]);
    }

    @Test
    void fromDirectoryReadsBothSplitsGzOrRaw(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images()));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels()));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), imagesIdx(2051, 1, 28, 28, 1));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labelsIdx(2049, 7));
        assertSynthetic(FashionMnist.fromDirectory(dir, true));
        FashionMnist test = FashionMnist.fromDirectory(dir, false);
        assertEquals(1, test.size());
        assertEquals(7, test.label(0));
    }

    @Test
    void gzipIsDetectedByContentNotName(@TempDir Path dir) throws IOException {
        // Raw bytes under the .gz name (someone gunzipped in place), gzip bytes under the raw name.
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), images());
        Files.write(dir.resolve("train-labels-idx1-ubyte"), gzip(labels()));
        assertSynthetic(FashionMnist.fromDirectory(dir, true));
    }

    @Test
    void missingFileNamesWhatWasExpected(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images()));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.fromDirectory(dir, true));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void badImagesMagicIsReportedWithFileAndNumbers(@TempDir Path dir) throws IOException {
        Path im = dir.resolve("train-images-idx3-ubyte.gz");
        Files.write(im, gzip(imagesIdx(2050, 3, 28, 28, 3)));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels()));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.fromDirectory(dir, true));
        String m = e.getMessage();
        assertTrue(m.contains(im.toString()) && m.contains("magic") && m.contains("2050") && m.contains("2051"), m);
    }

    @Test
    void swappedFilesAreRecognised() {
        IOException e = assertThrows(IOException.class, () -> read(labels(), images()));
        assertTrue(e.getMessage().contains("synthetic (images)"), e.getMessage());
        assertTrue(e.getMessage().contains("2049") && e.getMessage().contains("labels file"), e.getMessage());
    }

    @Test
    void badLabelsMagic() {
        IOException e = assertThrows(IOException.class, () -> read(images(), labelsIdx(2048, LABELS)));
        String m = e.getMessage();
        assertTrue(m.contains("synthetic (labels)") && m.contains("2048") && m.contains("2049"), m);
    }

    @Test
    void countMismatchNamesBothCounts() {
        IOException e = assertThrows(IOException.class, () -> read(images(), labelsIdx(2049, 1, 2)));
        String m = e.getMessage();
        assertTrue(m.contains("2 labels") && m.contains("3 images"), m);
    }

    @Test
    void truncatedImagesRawAndGzip() throws IOException {
        byte[] full = images();
        byte[] cut = Arrays.copyOf(full, full.length - 100);
        for (byte[] bytes : new byte[][] {cut, gzip(cut)}) {
            IOException e = assertThrows(IOException.class, () -> read(bytes, labels()));
            String m = e.getMessage();
            assertTrue(m.contains("synthetic (images)") && m.contains("truncated") && m.contains(String.valueOf(3 * 784))
                    && m.contains(String.valueOf(3 * 784 - 100)), m);
        }
    }

    @Test
    void truncatedHeaderAndTruncatedGzipStream() throws IOException {
        IOException header = assertThrows(IOException.class, () -> read(Arrays.copyOf(images(), 10), labels()));
        assertTrue(header.getMessage().contains("truncated header"), header.getMessage());
        byte[] gz = gzip(images());
        IOException stream = assertThrows(IOException.class, () -> read(Arrays.copyOf(gz, gz.length / 2), labels()));
        assertTrue(stream.getMessage().contains("synthetic (images)") && stream.getMessage().contains("truncated"),
                stream.getMessage());
    }

    @Test
    void truncatedLabels() {
        byte[] lb = labels();
        IOException e = assertThrows(IOException.class, () -> read(images(), Arrays.copyOf(lb, lb.length - 1)));
        String m = e.getMessage();
        assertTrue(m.contains("synthetic (labels)") && m.contains("truncated") && m.contains("expected 3"), m);
    }

    @Test
    void trailingDataIsRejected() {
        byte[] im = Arrays.copyOf(images(), images().length + 1);
        IOException e = assertThrows(IOException.class, () -> read(im, labels()));
        assertTrue(e.getMessage().contains("unexpected data"), e.getMessage());
    }

    @Test
    void wrongImageSizeIsRejected() {
        IOException e = assertThrows(IOException.class, () -> read(imagesIdx(2051, 3, 32, 28, 3), labels()));
        assertTrue(e.getMessage().contains("32x28") && e.getMessage().contains("28x28"), e.getMessage());
    }

    @Test
    void labelOutOfRange() {
        IOException e = assertThrows(IOException.class, () -> read(images(), labelsIdx(2049, 1, 10, 2)));
        assertTrue(e.getMessage().contains("label 1 is 10"), e.getMessage());
    }

    @Test
    void hugeClaimedCountFailsAsTruncatedWithoutAllocatingIt() {
        // 2.7 million images claimed, three present: must not try to allocate 2 GB first.
        IOException e = assertThrows(IOException.class, () -> read(imagesIdx(2051, 2_700_000, 28, 28, 3), labels()));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void indexChecks() throws IOException {
        FashionMnist d = read(images(), labels());
        assertThrows(IndexOutOfBoundsException.class, () -> d.image(3, new float[784], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.image(0, new float[784], 1));
        assertThrows(IndexOutOfBoundsException.class, () -> d.label(-1));
    }
}
