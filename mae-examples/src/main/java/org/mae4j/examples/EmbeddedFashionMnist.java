package org.mae4j.examples;

import org.mae4j.data.FashionMnist;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The Fashion-MNIST files shipped inside mae-examples (resources {@code org/mae4j/examples/fashion-mnist/}, MIT
 * licensed, see the NOTICE.txt there), so that the examples run with nothing to download.
 */
public final class EmbeddedFashionMnist {
    private EmbeddedFashionMnist() {}

    /** Classpath directory of the four {@code .gz} files. */
    static final String RESOURCE_DIR = "/org/mae4j/examples/fashion-mnist/";

    /**
     * The training split (60000 images) or the test split (10000 images).
     *
     * @throws IllegalStateException if the resources are missing from the classpath (a packaging error)
     * @throws UncheckedIOException  if they cannot be read or are malformed
     */
    public static FashionMnist load(boolean train) {
        String prefix = RESOURCE_DIR + (train ? "train" : "t10k");
        String images = prefix + "-images-idx3-ubyte.gz";
        String labels = prefix + "-labels-idx1-ubyte.gz";
        try (InputStream im = open(images); InputStream lb = open(labels)) {
            return FashionMnist.read(im, lb, "classpath:" + prefix + "-*-ubyte.gz");
        } catch (IOException e) {
            throw new UncheckedIOException("reading the embedded Fashion-MNIST " + (train ? "training" : "test")
                    + " split: " + e.getMessage(), e);
        }
    }

    private static InputStream open(String resource) {
        InputStream in = EmbeddedFashionMnist.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("resource " + resource + " is not on the classpath; mae-examples was "
                    + "built without its Fashion-MNIST resources");
        }
        return in;
    }
}
