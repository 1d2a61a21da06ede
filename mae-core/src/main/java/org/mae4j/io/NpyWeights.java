package org.mae4j.io;

import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A directory of {@code <state_dict key>.npy} files, one per tensor (the layout of the reference fixtures).
 * Loading is strict: every trainable tensor must be there, nothing unknown may be, and shapes must match;
 * the fixed position tables may be absent (they are recomputed by the model).
 */
public final class NpyWeights {
    private NpyWeights() {}

    public static void load(ParamStore store, Path dir) throws IOException {
        try {
            store.setAll(read(dir), dir.toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Every {@code <key>.npy} of a directory, by key. */
    public static Map<String, INDArray> read(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IOException(dir + ": not a directory (expected a directory of <key>.npy files)");
        if (!Files.isDirectory(dir)) throw new IOException("weights directory not found: " + dir);
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".npy")).forEach(f -> names.add(f.substring(0, f.length() - 4)));
        } catch (IOException e) {
            throw FileProblems.reading(dir, e);
        }
        if (names.isEmpty()) throw new IOException("no .npy files in " + dir);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String n : names) out.put(n, Npy.read(dir.resolve(n + ".npy")));
        return out;
    }

    /** Writes every tensor (position tables included) as float32/float64 .npy; creates the directory. */
    public static void save(ParamStore store, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ParamStore.Entry e : store.entries()) Npy.write(dir.resolve(e.name() + ".npy"), store.param(e.name()));
    }
}
