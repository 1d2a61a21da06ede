package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Checkpoints stream tensors instead of copying them onto the heap: a child JVM with a 64 MiB heap writes and
 * reads back a checkpoint whose parameter and optimizer tensors are 400 MB each (1.2 GB in all); a whole-tensor
 * heap copy (the format-1 writer) dies with OutOfMemoryError. The same program past 2^31 bytes of optimizer
 * state is a documented manual run (docs/reliability.md), too slow for every CI run.
 */
class CheckpointStreamingTest {
    @Test
    void aCheckpointManyTimesTheHeapIsWrittenAndReadBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("big.zip"), log = dir.resolve("child.log");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                // ND4J's off-heap arrays are not the heap: JavaCPP's default cap (a multiple of -Xmx) would refuse them
                "-Dorg.bytedeco.javacpp.maxbytes=0", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-cp", System.getProperty("java.class.path"), BigCheckpoint.class.getName(), "100000000", file.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child did not finish");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ok: 100000000 floats"), out);
        assertTrue(Files.size(file) > 1_200_000_000L, "three 400 MB tensors");
    }
}
