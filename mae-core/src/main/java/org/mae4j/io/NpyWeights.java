package org.mae4j.io;

import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        if (!Files.isDirectory(dir)) throw new IOException("weights directory not found: " + dir);
        TreeSet<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".npy")).forEach(f -> files.add(f.substring(0, f.length() - 4)));
        }
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        for (ParamStore.Entry e : store.entries()) if (e.trainable() && !files.contains(e.name())) missing.add(e.name());
        for (String f : files) if (!store.contains(f)) unexpected.add(f);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IOException("weights in " + dir + " do not fit this model: missing " + missing + ", unexpected " + unexpected);
        }
        for (String name : files) {
            INDArray v = Npy.read(dir.resolve(name + ".npy"));
            try {
                store.set(name, v);
            } catch (IllegalArgumentException e) {
                throw new IOException(dir.resolve(name + ".npy") + ": " + e.getMessage(), e);
            }
        }
    }

    /** Writes every tensor (position tables included) as float32/float64 .npy; creates the directory. */
    public static void save(ParamStore store, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ParamStore.Entry e : store.entries()) Npy.write(dir.resolve(e.name() + ".npy"), store.param(e.name()));
    }
}
