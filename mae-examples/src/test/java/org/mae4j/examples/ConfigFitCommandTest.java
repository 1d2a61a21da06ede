package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A checkpoint whose manifest config does not fit its tensors (here: it claims 32 px images, its position
 * tables are of 28 px) is refused in one line naming the file, the tensor and both shapes, by every command
 * that reads weights (issue 32: pretrain --resume, linprobe, knn and reconstruct gave internal errors, export
 * wrote a folder mae4j then refused, embed ran at the claimed size with regenerated tables).
 */
class ConfigFitCommandTest {

    private static String run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        String e = err.toString().trim();
        assertEquals(2, code, String.join(" ", args) + "\n" + e);
        assertFalse(e.contains("\n") || e.contains("internal error"), e);
        return e;
    }

    @Test
    void aManifestConfigThatDoesNotFitItsTensorsIsRefusedEverywhere(@TempDir Path tmp) throws Exception {
        MaeConfig real = MaeConfig.preset("tinyFmnist");
        MaskedAutoencoder m = MaskedAutoencoder.create(real, new Random(1));
        Path lying = tmp.resolve("lying.zip");
        Checkpoint.save(lying, Checkpoint.Contents.weights("pretrain", real.withImageSize(32), Map.of(), Normalization.fashionMnist(), m.params(), Map.of()));
        java.nio.file.Files.createDirectories(tmp.resolve("pics"));
        Path img = tmp.resolve("pics/a.png");
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", img.toFile());
        ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), "png", tmp.resolve("pics/b.png").toFile());
        String w = lying.toString();
        String[][] commands = {
                {"knn", "--weights", w, "--limit", "20"},
                {"linprobe", "--weights", w, "--limit", "20", "--epochs", "1", "--out", tmp.resolve("lp").toString()},
                {"finetune", "--weights", w, "--limit", "20", "--epochs", "1", "--out", tmp.resolve("ft").toString()},
                {"reconstruct", "--weights", w, "--images", img.toString(), "--out", tmp.resolve("r.png").toString()},
                {"embed", "--weights", w, "--images", img.toString(), "--out", tmp.resolve("e.npy").toString()},
                {"export", "--weights", w, "--out", tmp.resolve("x.safetensors").toString()},
                {"export", "--weights", w, "--names", "huggingface", "--out", tmp.resolve("hf").toString()}};
        String says = "checkpoint " + lying + ": tensor pos_embed has shape [1, 50, 192], but its config (32 px, patch 4, 1 channel(s), encoder width 192";
        for (String[] c : commands) {
            String e = run(c);
            assertTrue(e.startsWith("mae " + c[0] + ": " + says) && e.endsWith("implies [1, 65, 192]"), e);
        }
        assertFalse(java.nio.file.Files.exists(tmp.resolve("hf")), "export wrote a folder it then cannot read");

        // pretrain --resume: a resumable checkpoint whose manifest config was changed
        Path run1 = tmp.resolve("run");
        StringWriter err = new StringWriter();
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("pretrain", "--preset", "micro", "--data", tmp.resolve("pics").toString(), "--epochs", "1", "--batch", "2",
                "--out", run1.toString()), err.toString());
        Checkpoint.Contents c = Checkpoint.load(run1.resolve("checkpoint.zip"));
        Path resumeLying = tmp.resolve("resume-lying.zip");
        Checkpoint.save(resumeLying, new Checkpoint.Contents(c.kind(), c.config().withImageSize(32), c.model(), c.normalization(), c.params(), c.state(),
                c.optimizer(), c.options(), c.provenance(), c.formatVersion()));
        String e = run("pretrain", "--resume", resumeLying.toString(), "--out", tmp.resolve("run2").toString());
        assertTrue(e.startsWith("mae pretrain: checkpoint " + resumeLying + ": tensor pos_embed has shape [1, 17, 32], but its config (32 px"), e);

        // a HuggingFace folder whose config.json claims another image size than its tables
        Path hf = tmp.resolve("hf-ok");
        cl = Mae.commandLine();
        assertEquals(0, cl.execute("export", "--weights", run1.resolve("checkpoint.zip").toString(), "--names", "huggingface", "--out", hf.toString()));
        String config = java.nio.file.Files.readString(hf.resolve("config.json"));
        String claims32 = config.replaceAll("\"image_size\"\\s*:\\s*16", "\"image_size\": 32");
        assertNotEquals(config, claims32);
        java.nio.file.Files.writeString(hf.resolve("config.json"), claims32);
        e = run("embed", "--weights", hf.toString(), "--images", img.toString(), "--out", tmp.resolve("e2.npy").toString());
        assertTrue(e.startsWith("mae embed: " + hf.resolve("model.safetensors") + ": tensor pos_embed has shape [1, 17, 32], but its config (32 px"), e);
    }
}
