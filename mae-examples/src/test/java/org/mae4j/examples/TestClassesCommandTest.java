package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The classes of --test-data are the training classes' (issue 32: bird/fish scored against cat/dog gave top-1
 * 100% in knn, finetune and linprobe; a one-class folder fine-tuned as "2 classes" and scored 100%). Every
 * refusal comes before any training: nothing is written to --out.
 */
class TestClassesCommandTest {

    private static String run(int want, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        assertEquals(want, code, String.join(" ", args) + "\n" + err);
        return err.toString().trim();
    }

    /** root/<class>/ with n flat grey pictures per class; class i has grey level 40 + 170 * (i % 2). */
    private static Path folder(Path root, int n, String... classes) throws IOException {
        for (int c = 0; c < classes.length; c++) {
            Path d = Files.createDirectories(root.resolve(classes[c]));
            int level = 40 + 170 * (c % 2);
            for (int i = 0; i < n; i++) {
                BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, Math.min(255, level + (x + y + i) % 7));
                ImageIO.write(img, "png", d.resolve("i" + i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void aTestSetWithClassesTheTrainingSetLacksIsRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
        String train = folder(tmp.resolve("catdog"), 10, "cat", "dog").toString();
        String birdFish = folder(tmp.resolve("birdfish"), 2, "bird", "fish").toString();
        String extra = folder(tmp.resolve("catdogemu"), 2, "cat", "dog", "emu").toString();
        String lacks = "has classes bird, fish that the training classes (cat, dog) lack";
        Path out = tmp.resolve("out");
        String[][] commands = {
                {"knn", "--raw-pixels", "--out", out.resolve("knn.json").toString()},
                {"linprobe", "--random-init", "--epochs", "1", "--out", out.toString()},
                {"finetune", "--random-init", "--epochs", "1", "--batch", "4", "--out", out.toString()},
                {"pretrain", "--epochs", "1", "--batch", "4", "--knn-every", "1", "--out", out.toString()}};
        for (String[] c : commands) {
            String e = run(2, concat(c, "--data", train, "--test-data", birdFish));
            assertEquals("mae " + c[0] + ": --test-data " + birdFish + " " + lacks + "; a test set may hold only classes the model was trained on", e);
            e = run(2, concat(c, "--data", train, "--test-data", extra));
            assertTrue(e.startsWith("mae " + c[0] + ": --test-data " + extra + " has class emu that the training classes (cat, dog) lack") && !e.contains("\n"), e);
            assertFalse(Files.exists(out), c[0] + " wrote before refusing");
        }
    }

    @Test
    void aOneClassTrainingSetIsRefused(@TempDir Path tmp) throws Exception {
        String one = folder(tmp.resolve("cats"), 4, "cat").toString();
        Path out = tmp.resolve("out");
        String[][] commands = {
                {"knn", "--raw-pixels", "--out", out.resolve("knn.json").toString()},
                {"linprobe", "--random-init", "--epochs", "1", "--out", out.toString()},
                {"finetune", "--random-init", "--epochs", "1", "--batch", "4", "--out", out.toString()},
                {"pretrain", "--epochs", "1", "--batch", "4", "--knn-every", "1", "--out", out.toString()}};
        for (String[] c : commands) {
            String e = run(2, concat(c, "--data", one, "--test-data", one));
            assertEquals("mae " + c[0] + ": --data " + one + " has one class (cat): classification needs at least 2 class subdirectories", e);
            assertFalse(Files.exists(out), c[0] + " wrote before refusing");
        }
    }

    @Test
    void aTestSetWithSomeOfTheClassesIsScoredByTheTrainingIndices(@TempDir Path tmp) throws Exception {
        // dark cats, light dogs; the test folder holds dogs only, which its own numbering would call class 0 (cat)
        String train = folder(tmp.resolve("catdog"), 4, "cat", "dog").toString();
        Path dogs = tmp.resolve("dogs");
        folder(tmp.resolve("tmp"), 2, "cat", "dog");
        Files.move(tmp.resolve("tmp/dog"), Files.createDirectories(dogs).resolve("dog"));
        Path json = tmp.resolve("knn.json");
        run(0, "knn", "--raw-pixels", "--k", "3", "--data", train, "--test-data", dogs.toString(), "--out", json.toString());
        assertEquals(1.0, new ObjectMapper().readTree(json.toFile()).get("test_top1").asDouble(), "every light picture is a dog");
    }

    @Test
    void evalChecksTheTestClassesAgainstTheSavedClassifiers(@TempDir Path tmp) throws Exception {
        String train = folder(tmp.resolve("catdog"), 4, "cat", "dog").toString();
        String birdFish = folder(tmp.resolve("birdfish"), 2, "bird", "fish").toString();
        Path out = tmp.resolve("ft");
        run(0, "finetune", "--random-init", "--epochs", "1", "--batch", "4", "--val-fraction", "0.25", "--data", train, "--test-data", train, "--out", out.toString());
        String e = run(2, "finetune", "--eval", out.resolve("checkpoint.zip").toString(), "--test-data", birdFish, "--out", tmp.resolve("eval").toString());
        assertTrue(e.startsWith("mae finetune: --test-data " + birdFish + " has classes bird, fish that the training classes (cat, dog) lack"), e);
        assertFalse(Files.exists(tmp.resolve("eval")));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
