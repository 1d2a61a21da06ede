package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded mutations of checkpoints: only IOException with a one-line message naming the file comes out, never
 * anything else, never a hang. Blind mutations of the zip mostly stop at its own checks, so most cases mutate
 * one member (the manifest or a tensor) and zip the set again, which reaches the manifest parser and the
 * tensor reader.
 */
class CheckpointFuzzTest {

    private static Map<String, byte[]> members(byte[] zip) throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) m.put(e.getName(), in.readAllBytes());
        }
        return m;
    }

    private static byte[] zip(Map<String, byte[]> members) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(b)) {
            for (Map.Entry<String, byte[]> e : members.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return b.toByteArray();
    }

    @Test
    void mutatedCheckpointsGiveOnlyNamedIOExceptions(@TempDir Path dir) throws Exception {
        Path valid = dir.resolve("valid.zip");
        Checkpoint.save(valid, CheckpointTest.contents(CheckpointTest.store(5)));
        fuzz(dir, Files.readAllBytes(valid), 1500, 1000);
    }

    @Test
    void mutatedVersion1CheckpointsGiveOnlyNamedIOExceptions(@TempDir Path dir) throws Exception {
        fuzz(dir, Files.readAllBytes(Path.of(getClass().getResource("checkpoint-v1-micro.zip").toURI())), 600, 400);
    }

    private static void fuzz(Path dir, byte[] bytes, int memberCases, int fileCases) throws Exception {
        Map<String, byte[]> members = members(bytes);
        List<String> names = new ArrayList<>(members.keySet());
        Mutations.Reader read = Mutations.viaFile(dir, "fuzzed.zip", Checkpoint::load);

        // one member mutated, the zip rebuilt: the manifest half the time, a tensor otherwise
        Mutations.Summary inner = Mutations.fuzz(bytes, i -> {
            String name = i % 2 == 0 ? "manifest.json" : names.get(i % names.size());
            Mutations.Case c = Mutations.mutate(members.get(name), 77, i);
            Map<String, byte[]> copy = new LinkedHashMap<>(members);
            copy.put(name, c.bytes());
            try {
                List<String> what = new ArrayList<>(c.mutations());
                what.add(0, name);
                return new Mutations.Case(zip(copy), what);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "member mutations, seed 77", memberCases, Duration.ofSeconds(90), read, "fuzzed.zip", IOException.class);
        assertTrue(inner.rejected() > memberCases / 2, "most mutations must be caught: " + inner);

        // the file itself: truncations, flips and edits anywhere
        Mutations.Summary outer = Mutations.fuzz(bytes, 78, fileCases, Duration.ofSeconds(60), read, "fuzzed.zip", IOException.class);
        assertTrue(outer.rejected() > fileCases / 2, outer.toString());
    }
}
