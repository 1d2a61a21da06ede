package org.mae4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Where a path really points, for deciding whether an output would land on an input: "runs/../w.zip", "./w.zip",
 * an absolute spelling and a symlink to w.zip all name one file. A path that does not exist yet is resolved
 * through its longest existing ancestor, so an output in a symlinked folder is seen where it will be written.
 */
public final class RealPaths {
    private RealPaths() {}

    /** The absolute path with every existing part's symlinks and "." / ".." resolved; the missing rest appended as written. */
    public static Path of(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return abs;
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;   // unreadable (permissions): compare as written; the write itself will say what is wrong
        }
    }

    /** Whether a and b are one file: the same real path, or (hard links) the same file by the file system's own test. */
    public static boolean sameFile(Path a, Path b) {
        if (of(a).equals(of(b))) return true;
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether p lies inside folder dir (at any depth; not dir itself), by real paths. */
    public static boolean inside(Path p, Path dir) {
        if (!Files.isDirectory(dir)) return false;
        Path rp = of(p), rd = of(dir);
        return !rp.equals(rd) && rp.startsWith(rd);
    }

    /** Whether p exists as anything, a dangling symlink included (which a write would replace). */
    public static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
