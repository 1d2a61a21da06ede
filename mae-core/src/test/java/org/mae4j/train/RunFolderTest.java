package org.mae4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The run folder: one run at a time, no stale temporaries, metrics cut back to the checkpoint on resume. */
class RunFolderTest {

    @Test
    void aFolderThatCannotBeCreatedSaysWhy() {
        // the message of AccessDeniedException (what a folder without write permission gives) is the bare path
        assertEquals("permission denied on /srv/runs/a", RunFolder.reason(new java.nio.file.AccessDeniedException("/srv/runs/a")));
        assertEquals("Not a directory on /tmp/f/run", RunFolder.reason(new java.nio.file.FileSystemException("/tmp/f/run", null, "Not a directory")));
        assertEquals("/tmp/f is a file, in the way of a folder", RunFolder.reason(new java.nio.file.FileAlreadyExistsException("/tmp/f")));
    }

    @Test
    void aBusyFolderIsRefusedAndFreedWhenTheRunEnds(@TempDir Path dir) throws Exception {
        try (RunFolder first = RunFolder.open(dir, null, Map.of())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(dir, null, Map.of()));
            assertTrue(e.getMessage().contains("in use by another run") && e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
        }
        RunFolder.open(dir, null, Map.of()).close();   // free again
    }

    @Test
    void aFileIsNotAFolderAndAFreshRunDoesNotOverwriteACheckpoint(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(file, null, Map.of()));
        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
        Files.writeString(dir.resolve(RunFolder.CHECKPOINT), "old");
        e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(dir, null, Map.of()));
        assertTrue(e.getMessage().contains("already holds a run") && e.getMessage().contains("--resume"), e.getMessage());
        assertEquals("old", Files.readString(dir.resolve(RunFolder.CHECKPOINT)));
    }

    @Test
    void aFreshRunReplacesOnlyTheFilesOfItsOwnCommandsRun(@TempDir Path dir) throws Exception {
        Map<String, String> pretrain = Map.of("command", "pretrain");
        Path metrics = Files.writeString(dir.resolve(RunFolder.METRICS), "{\"my\": \"notes\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(dir, null, pretrain));
        assertTrue(e.getMessage().contains("is not the metrics of a mae4j pretrain run"), e.getMessage());
        assertEquals("{\"my\": \"notes\"}\n", Files.readString(metrics), "a fresh run truncated it");
        Files.writeString(metrics, "{\"type\":\"start\",\"command\":\"finetune\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(dir, null, pretrain));
        assertTrue(e.getMessage().contains("is not the metrics of a mae4j pretrain run"), e.getMessage());
        // a pretraining that crashed before its first checkpoint: the same command starts it again
        Files.writeString(metrics, "{\"type\":\"start\",\"command\":\"pretrain\"}\n{\"type\":\"step\",\"epoch\":1,\"step\":1,\"loss\":2.0}\n");
        RunFolder.open(dir, null, pretrain).close();
        // a folder without metrics whose checkpoint-best.zip no run of ours left
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve(RunFolder.BEST), "mine");
        e = assertThrows(IllegalArgumentException.class, () -> RunFolder.open(other, null, pretrain));
        assertTrue(e.getMessage().contains("holds checkpoint-best.zip that no mae4j pretrain run left there"), e.getMessage());
        // resuming from elsewhere into a folder with a run's files
        Files.writeString(other.resolve(RunFolder.CHECKPOINT), "theirs");
        e = assertThrows(IllegalArgumentException.class, () -> RunFolder.claim(other, "pretrain", dir.resolve("a.zip"), null));
        assertTrue(e.getMessage().contains("holds another run's files (checkpoint-best.zip, checkpoint.zip)"), e.getMessage());
        RunFolder.claim(other, "pretrain", other.resolve("checkpoint.zip"), null);   // its own checkpoint: continued
        assertEquals("theirs", Files.readString(other.resolve(RunFolder.CHECKPOINT)));
    }

    @Test
    void staleTemporariesOfACrashedWriteAreRemoved(@TempDir Path dir) throws Exception {
        Path stale = Files.writeString(dir.resolve(".checkpoint.zip.123e4567-e89b-12d3-a456-426614174000.tmp"), "half");
        Path kept = Files.writeString(dir.resolve(".notes.tmp"), "mine");
        Path another = Files.writeString(dir.resolve(".notes.txt.123e4567-e89b-12d3-a456-426614174000.tmp"), "another program's");
        RunFolder.open(dir, null, Map.of()).close();
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(kept), "only AtomicFiles' own temporaries go");
        assertTrue(Files.exists(another), "only the temporaries of a run's own files go");
    }

    @Test
    void resumeCutsTheMetricsBackToTheCheckpoint(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve(RunFolder.METRICS), List.of(
                "{\"type\":\"start\"}",
                "{\"type\":\"step\",\"epoch\":1,\"step\":1,\"loss\":2.0}",
                "{\"type\":\"step\",\"epoch\":1,\"step\":2,\"loss\":1.9}",
                "{\"type\":\"epoch_end\",\"epoch\":1,\"step\":2,\"loss\":1.95}",
                "{\"type\":\"step\",\"epoch\":2,\"step\":3,\"loss\":1.8}",
                "{\"type\":\"step\",\"epoch\":2,\"step\":4,\"loss\":1.7}",
                "{\"type\":\"step\",\"epo"), StandardCharsets.UTF_8);
        try (RunFolder f = RunFolder.open(dir, new TrainingState(1, 3, 3, 48, 0), Map.of("kernels", "java"))) {
            List<String> lines = Files.readAllLines(dir.resolve(RunFolder.METRICS));
            assertEquals(6, lines.size(), String.join("\n", lines));
            assertTrue(lines.get(4).contains("\"step\":3"), lines.get(4));
            assertTrue(lines.get(5).contains("\"resumed_at_step\":3") && lines.get(5).contains("\"kernels\":\"java\""), lines.get(5));
            assertArrayEquals(new double[] {1.8}, f.metrics().lossesBeforeResume(), "the resumed epoch's step losses up to the checkpoint");
        }
    }
}
