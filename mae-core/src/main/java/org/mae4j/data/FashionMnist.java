package org.mae4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) read from its IDX files: 28x28 grey images of 10 clothing
 * classes, 60000 for training and 10000 for testing.
 *
 * <p>IDX: a big-endian int32 magic (2051 for images = unsigned bytes, 3 dimensions; 2049 for labels = unsigned
 * bytes, 1 dimension), then one big-endian int32 per dimension, then the bytes. Each file may be gzip-compressed
 * or raw; which one is decided by the gzip magic bytes (1f 8b), not by the file name, so a decompressed file
 * that kept its {@code .gz} name still reads.
 *
 * <p>Pixels are kept as the file's bytes (47 MB for the training set, a quarter of floats) and converted to
 * {@code pixel / 255f} when an image is read. The dataset is immutable and safe to read from several threads.
 */
public final class FashionMnist implements ImageDataset {

    /** Image side in pixels. */
    public static final int IMAGE_SIZE = 28;
    /** The dataset's class names, in label order. */
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    static final int IMAGES_MAGIC = 2051;
    static final int LABELS_MAGIC = 2049;
    private static final int PIXELS = IMAGE_SIZE * IMAGE_SIZE;

    private final byte[] pixels;
    private final byte[] labels;

    private FashionMnist(byte[] pixels, byte[] labels) {
        this.pixels = pixels;
        this.labels = labels;
    }

    /**
     * Reads an images file and a labels file from streams (each gzip or raw). The streams are read to their end
     * but not closed. {@code source} names the pair in error messages, e.g. a resource path.
     *
     * @throws IOException if either stream is not a valid IDX file of the expected kind, if the counts disagree,
     *                     or if data is missing or left over; the message names the file and the numbers
     */
    public static FashionMnist read(InputStream images, InputStream labels, String source) throws IOException {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(source, "source");
        return read(images, source + " (images)", labels, source + " (labels)");
    }

    /**
     * Reads the training ({@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]}) or test
     * ({@code t10k-...}) split from a directory laid out like the official download. When both the
     * {@code .gz} and the raw file are present, the {@code .gz} one is read.
     *
     * @throws IOException if a file is missing (the message lists the names tried) or malformed
     */
    public static FashionMnist fromDirectory(Path dir, boolean train) throws IOException {
        Objects.requireNonNull(dir, "dir");
        String prefix = train ? "train" : "t10k";
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte");
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte");
        try (InputStream im = open(imagesFile); InputStream lb = open(labelsFile)) {
            return read(im, imagesFile.toString(), lb, labelsFile.toString());
        }
    }

    /** The JDK's exceptions for an unopenable file carry only the path; this one says the problem too. */
    private static InputStream open(Path file) throws IOException {
        try {
            return Files.newInputStream(file);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException(file + ": permission denied", e);
        } catch (IOException e) {
            throw new IOException(file + ": cannot open: " + e.getMessage(), e);
        }
    }

    private static Path find(Path dir, String base) throws IOException {
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        Path raw = dir.resolve(base);
        if (Files.isRegularFile(raw)) return raw;
        throw new IOException("Fashion-MNIST file not found in " + dir + ": expected " + gz.getFileName()
                + " or " + raw.getFileName());
    }

    private static FashionMnist read(InputStream images, String imagesName, InputStream labels, String labelsName)
            throws IOException {
        byte[] pixels;
        int imageCount;
        try (InputStream in = decompressed(images, imagesName)) {
            int magic = readHeaderInt(in, imagesName, "magic number");
            if (magic != IMAGES_MAGIC) {
                throw new IOException(imagesName + ": bad magic number " + magic + ", expected " + IMAGES_MAGIC
                        + " (an IDX file of unsigned-byte images)" + (magic == LABELS_MAGIC ? "; this is a labels file" : ""));
            }
            imageCount = readHeaderInt(in, imagesName, "image count");
            int rows = readHeaderInt(in, imagesName, "row count");
            int cols = readHeaderInt(in, imagesName, "column count");
            if (imageCount < 0) throw new IOException(imagesName + ": negative image count " + imageCount);
            if (rows != IMAGE_SIZE || cols != IMAGE_SIZE) {
                throw new IOException(imagesName + ": images are " + rows + "x" + cols + ", expected "
                        + IMAGE_SIZE + "x" + IMAGE_SIZE);
            }
            long need = Math.multiplyExact((long) imageCount, PIXELS);   // below 2^41: count is a non-negative int
            if (need > Integer.MAX_VALUE - 16) {
                throw new IOException(imagesName + ": " + imageCount + " images of " + PIXELS
                        + " bytes do not fit in one Java array");
            }
            pixels = readBody(in, (int) need, imagesName, imageCount + " images of " + rows + "x" + cols);
        }
        byte[] labelBytes;
        try (InputStream in = decompressed(labels, labelsName)) {
            int magic = readHeaderInt(in, labelsName, "magic number");
            if (magic != LABELS_MAGIC) {
                throw new IOException(labelsName + ": bad magic number " + magic + ", expected " + LABELS_MAGIC
                        + " (an IDX file of unsigned-byte labels)" + (magic == IMAGES_MAGIC ? "; this is an images file" : ""));
            }
            int labelCount = readHeaderInt(in, labelsName, "label count");
            if (labelCount < 0) throw new IOException(labelsName + ": negative label count " + labelCount);
            if (labelCount != imageCount) {
                throw new IOException(labelsName + " has " + labelCount + " labels but " + imagesName + " has "
                        + imageCount + " images");
            }
            labelBytes = readBody(in, labelCount, labelsName, labelCount + " labels");
        }
        for (int i = 0; i < labelBytes.length; i++) {
            int l = labelBytes[i] & 0xff;
            if (l >= CLASS_NAMES.size()) {
                throw new IOException(labelsName + ": label " + i + " is " + l + ", expected 0.."
                        + (CLASS_NAMES.size() - 1));
            }
        }
        return new FashionMnist(pixels, labelBytes);
    }

    /**
     * The stream itself or a gunzipping view of it, decided by the first two bytes. The returned stream must not
     * close the caller's stream (the public {@code read} leaves closing to its caller), hence the shield.
     */
    private static InputStream decompressed(InputStream raw, String name) throws IOException {
        InputStream in = new BufferedInputStream(new NonClosing(raw), 1 << 16);
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        if (b0 != 0x1f || b1 != 0x8b) return in;
        try {
            return new GZIPInputStream(in, 1 << 16);
        } catch (IOException e) {
            throw new IOException(name + ": starts like gzip (1f 8b) but its gzip header is invalid: "
                    + e.getMessage(), e);
        }
    }

    private static int readHeaderInt(InputStream in, String name, String field) throws IOException {
        byte[] b = readCounted(in, 4, name);
        if (b.length < 4) {
            throw new IOException(name + ": truncated header, the file ends before the " + field);
        }
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    /** Reads exactly {@code n} bytes and checks that nothing follows them. */
    private static byte[] readBody(InputStream in, int n, String name, String what) throws IOException {
        byte[] data = readCounted(in, n, name);
        if (data.length < n) {
            throw new IOException(name + ": truncated, expected " + n + " bytes of data for " + what + ", got "
                    + data.length);
        }
        if (readCounted(in, 1, name).length != 0) {
            throw new IOException(name + ": unexpected data after the " + n + " bytes for " + what);
        }
        return data;
    }

    /**
     * Up to n bytes. readNBytes grows its buffer as data arrives, so a corrupt header that claims a huge count
     * fails as truncated instead of allocating the claimed size up front. A broken gzip stream is reported with
     * the file's name.
     */
    private static byte[] readCounted(InputStream in, int n, String name) throws IOException {
        try {
            return in.readNBytes(n);
        } catch (EOFException e) {
            throw new IOException(name + ": truncated gzip stream", e);
        } catch (ZipException e) {
            throw new IOException(name + ": corrupt gzip data: " + e.getMessage(), e);
        }
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int imageSize() {
        return IMAGE_SIZE;
    }

    @Override
    public void image(int i, float[] dst, int offset) {
        Objects.checkIndex(i, size());
        Objects.checkFromIndexSize(offset, PIXELS, dst.length);
        int base = i * PIXELS;
        for (int p = 0; p < PIXELS; p++) dst[offset + p] = (pixels[base + p] & 0xff) / 255f;
    }

    @Override
    public boolean hasLabels() {
        return true;
    }

    @Override
    public int label(int i) {
        Objects.checkIndex(i, size());
        return labels[i] & 0xff;
    }

    @Override
    public List<String> classNames() {
        return CLASS_NAMES;
    }

    @Override
    public String toString() {
        return "FashionMnist[" + size() + " images]";
    }

    /** Lets us wrap the caller's stream in decoders and close those without closing the caller's stream. */
    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
        }
    }
}
