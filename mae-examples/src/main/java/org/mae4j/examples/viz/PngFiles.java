package org.mae4j.examples.viz;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/** Writing a PNG so that a reader (or a crash) never sees a half-written file. */
final class PngFiles {
    private PngFiles() {}

    /**
     * Encodes {@code image} to a temporary file in the target's own directory (so the final move is a rename
     * on one file system), flushes it to disk, then moves it over {@code png} atomically where the file system
     * allows. The temporary file is removed whatever happens.
     */
    static void writeAtomically(BufferedImage image, Path png) throws IOException {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(png, "png path");
        org.mae4j.io.AtomicFiles.write(png, os -> {
            if (!ImageIO.write(image, "png", os)) {
                throw new IOException("no PNG writer available in javax.imageio for image type " + image.getType());
            }
        });
    }
}
