package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Safetensors;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae finetune end to end on a slice of the embedded Fashion-MNIST. */
class FinetuneCommandTest {

    @Test
    void fineTunesAndWritesResultsWithoutOverwriting(@TempDir Path tmp) throws Exception {
        String[] args = {"finetune", "--random-init", "--limit", "128", "--epochs", "2", "--batch", "32", "--out", tmp.toString()};
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute(args), err.toString());
        JsonNode r = new ObjectMapper().readTree(tmp.resolve("finetune.json").toFile());
        assertEquals(2, r.get("epochs").size());
        assertEquals(128, r.get("test_images").asInt());
        double acc = r.get("test_accuracy").asDouble();
        // Plumbing only: that fine-tuning learns is VitClassifierTest's (gradient check, an easy task learned).
        assertTrue(acc >= 0 && acc <= 1 && acc * 128 == Math.rint(acc * 128), "test accuracy " + acc + " must be a fraction of 128 images");
        var tensors = Safetensors.read(tmp.resolve("classifier.safetensors")).tensors();
        assertArrayEquals(new long[] {10, 192}, tensors.get("head.weight").shape());
        assertTrue(tensors.containsKey("blocks.11.mlp.fc2.weight"));
        assertTrue(Files.size(tmp.resolve("finetune-loss.png")) > 0);

        byte[] before = Files.readAllBytes(tmp.resolve("classifier.safetensors"));
        cl = Mae.commandLine();
        err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute(args));
        assertTrue(err.toString().contains("already exists"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(tmp.resolve("classifier.safetensors")));
    }
}
