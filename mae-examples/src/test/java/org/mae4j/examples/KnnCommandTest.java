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

/** ./mae knn end to end on a slice of the embedded Fashion-MNIST. */
class KnnCommandTest {
    private static int run(StringWriter err, String... args) {
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void rawPixelsAndAnEncoderAreScoredWithTheirFigures(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "knn", "--raw-pixels", "--limit", "400", "--out", tmp.resolve("raw.json").toString()), err.toString());
        JsonNode raw = new ObjectMapper().readTree(tmp.resolve("raw.json").toFile());
        // pixel kNN separates Fashion-MNIST far above chance (10%): 79.95% measured on 2000 / 2000 images
        assertTrue(raw.get("test_top1").asDouble() > 0.6, raw.toString());
        assertEquals(400, raw.get("train_images").asInt());

        assertEquals(0, run(err, "knn", "--random-init", "--limit", "200", "--knn-train", "100", "--k", "5", "--out", tmp.resolve("enc.json").toString()), err.toString());
        JsonNode enc = new ObjectMapper().readTree(tmp.resolve("enc.json").toFile());
        assertEquals(100, enc.get("train_images").asInt());
        assertEquals(200, enc.get("test_images").asInt());
        double top1 = enc.get("test_top1").asDouble();
        assertTrue(top1 >= 0 && top1 <= enc.get("test_top5").asDouble() && top1 * 200 == Math.rint(top1 * 200), enc.toString());

        err = new StringWriter();
        assertEquals(2, run(err, "knn", "--raw-pixels", "--k", "0"));
        assertTrue(err.toString().contains("k must be >= 1"), err.toString());
    }

    @Test
    void aFineTunedClassifierIsRefusedByKnnAndTheProbe(@TempDir Path tmp) throws Exception {
        Path ft = tmp.resolve("ft");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--random-init", "--preset", "tinyFmnist6", "--limit", "32", "--batch", "16", "--epochs", "1",
                "--warmup-epochs", "0", "--out", ft.toString()), err.toString());
        for (String command : new String[] {"knn", "linprobe"}) {
            err = new StringWriter();
            assertEquals(2, run(err, command, "--weights", ft.resolve("checkpoint.zip").toString(), "--limit", "32", "--out",
                    tmp.resolve(command + (command.equals("knn") ? ".json" : "")).toString()), command);
            assertTrue(err.toString().contains("is a fine-tuned classifier") && err.toString().strip().lines().count() == 1, command + ": " + err);
        }
    }
}
