package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class AtomicFilesTest {

    @Test
    void aWriterThatFailsMidwayLeavesTheOldFileAndNoDebris(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("checkpoint.zip");
        AtomicFiles.write(f, os -> os.write(new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, os -> {
            os.write(new byte[1 << 21]);                 // more than the buffer: part of it reached the temporary file
            throw new IOException("disk full (simulated)");
        }));
        // the device's message names no file: the write says which one, and that the old one is intact
        assertTrue(e.getMessage().contains("disk full (simulated)") && e.getMessage().contains(f.toString()) && e.getMessage().contains("unchanged"), e.getMessage());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f), "the previous file must survive a failed write");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file may be left behind");
        }
        AtomicFiles.write(f, os -> os.write(new byte[] {4}));
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(f), "a successful write replaces the file");
    }
}
