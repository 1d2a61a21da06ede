package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae linprobe end to end on a slice of the embedded Fashion-MNIST. */
class LinprobeCommandTest {

    @Test
    void probesAnEncoderAndReportsAccuracy(@TempDir Path tmp) throws Exception {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute("linprobe", "--random-init", "--limit", "400", "--epochs", "5", "--batch", "100", "--out", tmp.toString());
        assertEquals(0, exit, err.toString());
        JsonNode r = new ObjectMapper().readTree(tmp.resolve("linprobe.json").toFile());
        assertEquals(400, r.get("train_images").asInt());
        assertEquals(400, r.get("test_images").asInt());
        assertEquals(5, r.get("epochs").size());
        // Even an untrained ViT's features separate Fashion-MNIST classes far above chance (10%), if labels stay aligned.
        double acc = r.get("test_accuracy").asDouble();
        assertTrue(acc > 0.4 && acc <= 1, "test accuracy " + acc);
        assertTrue(tmp.resolve("linprobe-loss.png").toFile().length() > 0);
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
