package org.mae4j.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writing a file so that a crash mid-write never leaves it half written: the bytes go to a temporary file in
 * the same directory (so the rename stays on one file system), are forced to disk, then renamed over the
 * target. Readers see the old file or the new one, never a mixture; checkpoints rely on this.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** What fills the file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes file atomically with content; the parent directory is created if needed. */
    public static void write(Path file, Content content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: it makes the file owner-only (0600); outputs get the usual permissions (umask).
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try {
                try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 20)) {
                    content.writeTo(os);
                }
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) { ch.force(true); }
            } catch (java.nio.file.FileSystemException e) {
                throw e;   // names its file already
            } catch (IOException e) {
                // e.g. "No space left on device", which names no file: say which one (the previous version is intact)
                throw new IOException("writing " + target + ": " + e.getMessage() + " (the previous " + target.getFileName() + ", if any, is unchanged)", e);
            }
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
