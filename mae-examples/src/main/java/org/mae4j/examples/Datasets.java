package org.mae4j.examples;

import org.mae4j.data.BadImagePolicy;
import org.mae4j.data.FashionMnist;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.ImageFolder;
import org.mae4j.data.Subset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What {@code --data} may name: the embedded Fashion-MNIST, a folder of idx files, or an image folder. */
final class Datasets {
    private Datasets() {}
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Datasets.class);

    /** --on-bad-image's description, the same in every command. */
    static final String ON_BAD_IMAGE = "For an image folder: skip an unreadable image with a warning, or fail naming it (${COMPLETION-CANDIDATES}).";

    /** The embedded dataset's names for {@code --data}. */
    static final String FASHION_MNIST = "fashion-mnist", FASHION_MNIST_TEST = "fashion-mnist-test";

    /**
     * Opens {@code spec}: {@value #FASHION_MNIST} / {@value #FASHION_MNIST_TEST} (embedded), a directory with
     * Fashion-MNIST/MNIST idx files, or an image folder (class-per-subfolder or flat) resized to the model's
     * size and converted to its channel count. limit > 0 keeps only the first limit images.
     */
    static ImageDataset open(String spec, int channels, int imageSize, boolean train, int limit) throws IOException {
        return open(spec, channels, imageSize, train, limit, BadImagePolicy.SKIP);
    }

    /** As above; an image folder's unreadable images are left out with a warning (SKIP) or refuse the folder (FAIL). */
    static ImageDataset open(String spec, int channels, int imageSize, boolean train, int limit, BadImagePolicy policy) throws IOException {
        ImageDataset d;
        if (spec.equals(FASHION_MNIST) || spec.equals(FASHION_MNIST_TEST)) {
            d = EmbeddedFashionMnist.load(train && spec.equals(FASHION_MNIST));
        } else {
            Path dir = Path.of(spec);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--data " + spec + ": neither '" + FASHION_MNIST + "', '" + FASHION_MNIST_TEST
                        + "' nor an existing directory");
            }
            if (isIdx(dir)) {
                d = FashionMnist.fromDirectory(dir, train);
            } else {
                // every image decoded once here, so that a file cut short after a good header is found now, not mid-epoch
                ImageFolder f = ImageFolder.open(dir, channels, imageSize).scan(policy, true);
                if (!f.skipped().isEmpty()) {
                    ImageFolder.BadImage first = f.skipped().get(0);
                    LOG.warn("--data {}: left out {} unreadable image(s) (--on-bad-image skip); the first: {}: {}", spec, f.skipped().size(),
                            first.path(), first.problem());
                }
                d = f;
            }
        }
        if (d.channels() != channels || d.imageSize() != imageSize) {
            throw new IllegalArgumentException("--data " + spec + " has " + d.channels() + "-channel " + d.imageSize() + "px images but the model needs "
                    + channels + "-channel " + imageSize + "px; pick a preset that matches (tinyFmnist for Fashion-MNIST) or an image folder");
        }
        if (limit < 0) throw new IllegalArgumentException("--limit must be >= 0, got " + limit);
        return limit > 0 && limit < d.size() ? new Subset(d, limit) : d;
    }

    /**
     * The test set for --data and --test-data: --test-data when given, else the test split of --data when it
     * has one (the embedded Fashion-MNIST, a folder of idx files); an image folder has none.
     */
    static String testSpec(String data, String testData) {
        if (testData != null) return testData;
        if (hasTestSplit(data)) return data;
        throw new IllegalArgumentException("--data " + data + " is an image folder: name its test set with --test-data");
    }

    /** Whether --data names its own test split (the embedded Fashion-MNIST, a folder of idx files); an image folder does not. */
    static boolean hasTestSplit(String data) {
        Path dir = Path.of(data);
        return data.equals(FASHION_MNIST) || data.equals(FASHION_MNIST_TEST) || !Files.isDirectory(dir) || isIdx(dir);
    }

    /** A folder laid out like the Fashion-MNIST/MNIST download. */
    private static boolean isIdx(Path dir) {
        return Files.exists(dir.resolve("train-images-idx3-ubyte.gz")) || Files.exists(dir.resolve("train-images-idx3-ubyte"));
    }
}
