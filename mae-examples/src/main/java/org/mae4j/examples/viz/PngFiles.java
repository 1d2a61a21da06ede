package org.mae4j.examples.viz;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.UUID;

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
        Path target = png.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: it makes the file owner-only (0600), and the PNG should get the ordinary
        // permissions (umask) that any other file written here would have, as people open these to look at.
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream os = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (!ImageIO.write(image, "png", os)) {
                    throw new IOException("no PNG writer available in javax.imageio for image type " + image.getType());
                }
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) { ch.force(true); }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
