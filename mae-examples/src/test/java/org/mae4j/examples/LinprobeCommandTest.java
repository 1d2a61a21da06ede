package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae linprobe end to end on a slice of the embedded Fashion-MNIST. */
class LinprobeCommandTest {

    private static int run(StringWriter err, String... args) {
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void probesAnEncoderReportsAccuracyAndResumesExactly(@TempDir Path tmp) throws Exception {
        // LARS moves a weight by at most lr x 0.001 x its norm per step: 20 steps need a large lr (the reference's
        // absolute lr is 6.4, at batch 16384); blr 40 gives lr 15.6
        String[] args = {"linprobe", "--random-init", "--limit", "400", "--epochs", "5", "--warmup-epochs", "1", "--batch", "100", "--blr", "40"};
        StringWriter err = new StringWriter();
        Path a = tmp.resolve("a");
        assertEquals(0, run(err, concat(args, "--out", a.toString())), err.toString());
        JsonNode r = new ObjectMapper().readTree(a.resolve("linprobe.json").toFile());
        assertEquals(400, r.get("train_images").asInt());
        assertEquals(400, r.get("test_images").asInt());
        // Even an untrained ViT's features separate Fashion-MNIST classes above chance (10%; measured 29.5%), if labels stay aligned.
        double acc = r.get("test_top1").asDouble();
        assertTrue(acc > 0.2 && acc <= r.get("test_top5").asDouble(), "test top-1 " + acc);
        Checkpoint.Contents c = Checkpoint.load(a.resolve("checkpoint.zip"));
        assertEquals("linprobe", c.kind());
        assertEquals("LARS", c.optimizer().name());
        assertEquals(20, c.state().step(), "400 / 100 x 5 epochs");

        // stopped at step 7 and resumed: the same head, bit for bit
        Path b = tmp.resolve("b");
        assertEquals(0, run(err, concat(args, "--out", b.toString(), "--max-steps", "7")), err.toString());
        assertEquals(7, Checkpoint.load(b.resolve("checkpoint.zip")).state().step());
        assertEquals(0, run(err, "linprobe", "--resume", b.resolve("checkpoint.zip").toString(), "--out", b.toString()), err.toString());
        assertArrayEquals(c.params().flatParams().toFloatVector(), Checkpoint.load(b.resolve("checkpoint.zip")).params().flatParams().toFloatVector());
        assertEquals(acc, new ObjectMapper().readTree(b.resolve("linprobe.json").toFile()).get("test_top1").asDouble());

        // a conflicting option on resume is refused, naming both values
        err = new StringWriter();
        assertEquals(2, run(err, "linprobe", "--resume", b.resolve("checkpoint.zip").toString(), "--out", b.toString(), "--seed", "5"));
        assertTrue(err.toString().contains("--seed 5") && err.toString().contains("checkpoint's 0"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "linprobe", "--resume", b.resolve("checkpoint.zip").toString(), "--out", b.toString(), "--blr", "0.5"));
        assertTrue(err.toString().contains("--change-schedule"), err.toString());
    }

    @Test
    void rawPixelsAreABaseline(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "linprobe", "--raw-pixels", "--limit", "400", "--epochs", "5", "--warmup-epochs", "1", "--batch", "100", "--blr", "10",
                "--out", tmp.toString()), err.toString());
        JsonNode r = new ObjectMapper().readTree(tmp.resolve("linprobe.json").toFile());
        assertEquals("raw-pixels", r.get("features").asText());
        assertTrue(r.get("test_top1").asDouble() > 0.5, r.toString());
        assertEquals(784, Integer.parseInt(Checkpoint.load(tmp.resolve("checkpoint.zip")).model().get("feature_dim")));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void needsExactlyOneEncoderSource(@TempDir Path tmp) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("linprobe", "--out", tmp.toString()));
        assertTrue(err.toString().contains("--weights") && err.toString().contains("--random-init"), err.toString());
    }
}
