package org.mae4j.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Which exceptions are the user's to fix (bad arguments, missing or corrupt files, a full disk) and the one
 * line that says so; everything else is a bug of mae4j, whose trace goes to a file.
 */
final class UserErrors {
    private UserErrors() {}

    /** The one-line problem statement of a user error, or null for a bug. */
    static String describe(Throwable e) {
        if (e instanceof UncheckedIOException u) return describe(u.getCause());
        if (e instanceof NoSuchFileException f) return f.getFile() + ": file not found" + other(f);
        if (e instanceof AccessDeniedException f) return f.getFile() + ": permission denied" + other(f);
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + ": already exists" + other(f);
        if (e instanceof NotDirectoryException f) return f.getFile() + ": not a directory";
        if (e instanceof java.nio.file.FileSystemLoopException f) return f.getFile() + ": a symbolic link loop (a link to a folder above it)";
        if (e instanceof FileSystemException f) return f.getFile() + ": " + (f.getReason() == null ? f.getClass().getSimpleName() : f.getReason()) + other(f);
        if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            String m = e.getMessage();
            if (m == null || m.isBlank()) return null;
            if (m.contains("No space left on device") && !m.contains("/")) m = m + " (while writing the output folder)";
            return m.replace('\n', ' ');
        }
        return null;
    }

    private static String other(FileSystemException f) {
        return f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")";
    }

    /** Writes e's stack trace to error.log in dir (or a temporary file); returns where, or null if it could not. */
    static Path writeTrace(Throwable e, Path dir) {
        StringWriter s = new StringWriter();
        e.printStackTrace(new PrintWriter(s));
        try {
            // into the run's folder, but never over an error.log of a folder that holds no run (the user's own file)
            boolean here = dir != null && Files.isDirectory(dir)
                    && (!Files.exists(dir.resolve("error.log")) || Files.exists(dir.resolve(org.mae4j.train.RunFolder.METRICS)));
            Path log = here ? dir.resolve("error.log") : Files.createTempFile("mae4j-error-", ".log");
            byte[] bytes = s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            org.mae4j.io.AtomicFiles.write(log, os -> os.write(bytes));
            return log;
        } catch (IOException | RuntimeException io) {
            System.err.print(s);
            return null;
        }
    }
}
