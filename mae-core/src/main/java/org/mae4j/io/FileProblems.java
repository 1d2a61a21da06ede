package org.mae4j.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One-line messages for failures to open or read a file. The JDK's own exceptions often carry only the path
 * ({@code NoSuchFileException: /x/w.npy}), which names the file but not the problem.
 */
public final class FileProblems {
    private FileProblems() {}

    /** An IOException saying what went wrong with file, keeping e as its cause. */
    public static IOException reading(Path file, IOException e) {
        String problem;
        if (e instanceof NoSuchFileException) problem = "file not found";
        else if (e instanceof AccessDeniedException) problem = "permission denied";
        else if (Files.isDirectory(file)) problem = "is a directory, not a file";
        else if (e instanceof FileSystemException fs && fs.getReason() != null) problem = "cannot read: " + fs.getReason();
        else problem = "cannot read: " + oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        return new IOException(file + ": " + problem, e);
    }

    /** s with line breaks and other control characters shown as escapes, cut to max characters. */
    static String excerpt(String s, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return s.length() > max || b.length() > max ? b.substring(0, Math.min(b.length(), max)) + "..." : b.toString();
    }

    static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
