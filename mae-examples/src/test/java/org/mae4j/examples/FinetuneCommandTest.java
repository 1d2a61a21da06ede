package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import java.util.List;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae finetune end to end on a slice of the embedded Fashion-MNIST. */
class FinetuneCommandTest {

    private static int run(StringWriter err, String... args) {
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void fineTunesKeepsTheBestEpochScoresTheTestSetAndRefusesABusyFolder(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ft");
        String[] args = {"finetune", "--random-init", "--limit", "128", "--epochs", "2", "--batch", "32", "--warmup-epochs", "1",
                "--val-fraction", "0.25", "--out", out.toString()};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args), err.toString());
        JsonNode r = new ObjectMapper().readTree(out.resolve("finetune.json").toFile());
        assertEquals(128, r.get("test_images").asInt());
        double acc = r.get("test_top1").asDouble(), top5 = r.get("test_top5").asDouble();
        // Plumbing only: that fine-tuning learns is FineTuningTest's (an easy task learned, best epoch kept).
        assertTrue(acc >= 0 && acc <= top5 && top5 <= 1 && acc * 128 == Math.rint(acc * 128), "test top-1 " + acc + ", top-5 " + top5);
        assertTrue(r.get("checkpoint").asText().endsWith("checkpoint-best.zip"), r.toString());
        Checkpoint.Contents c = Checkpoint.load(out.resolve("checkpoint.zip"));
        assertEquals("finetune", c.kind());
        assertEquals(2, c.state().epoch());
        assertEquals(6, c.state().step(), "96 training images (128 less the validation quarter) / 32 = 3 steps per epoch");
        assertArrayEquals(new long[] {10, 192}, c.params().entry("head.weight").shape());
        assertTrue(Files.exists(out.resolve("checkpoint-best.zip")));
        assertNotNull(javax.imageio.ImageIO.read(out.resolve("confusion.png").toFile()));
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, metrics.stream().filter(l -> l.contains("\"epoch_end\"") && l.contains("val_top1")).count(), String.join("\n", metrics));
        assertEquals(1, metrics.stream().filter(l -> l.contains("\"type\":\"test\"")).count());

        // --eval scores the saved classifier alone: the same figure
        Path evalOut = tmp.resolve("eval");
        err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--eval", out.resolve("checkpoint-best.zip").toString(), "--limit", "128", "--out", evalOut.toString()), err.toString());
        assertEquals(acc, new ObjectMapper().readTree(evalOut.resolve("finetune.json").toFile()).get("test_top1").asDouble());

        byte[] before = Files.readAllBytes(out.resolve("checkpoint.zip"));
        err = new StringWriter();
        assertEquals(2, run(err, args));
        assertTrue(err.toString().contains("already holds a run") && err.toString().contains("--resume"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("checkpoint.zip")));
    }
}
