package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.data.FashionMnist;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Split;
import org.mae4j.io.Checkpoint;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** --labels / --label-seed of finetune, linprobe and knn, on the embedded Fashion-MNIST. */
class LabelsCommandTest {

    private static int run(StringWriter err, String... args) {
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    private static LabelOptions labels(String value, long seed) {
        LabelOptions o = new LabelOptions();
        o.labels = value;
        o.labelSeed = seed;
        return o;
    }

    @Test
    void theValidationSplitIsCarvedFirstTheSameForEveryLabelsValueAndTheLabelsComeFromTheRest() {
        FashionMnist all = EmbeddedFashionMnist.load(true);
        int[] val = null;
        for (String value : new String[] {"0.01", "0.1", "1", "600"}) {
            LabelOptions o = labels(value, 3);
            Split[] parts = o.holdOut(all, 0.1, 0);
            ImageDataset train = o.labelled(parts[0], all.size());
            int[] v = parts[1].indices();
            assertEquals(6000, v.length, "--val-fraction 0.1 of all 60000, whatever --labels");
            int[] perClass = new int[10];
            for (int i : v) perClass[all.label(i)]++;
            for (int c = 0; c < 10; c++) assertEquals(600, perClass[c], "the validation split is stratified: class " + c);
            if (val == null) val = v;
            else assertArrayEquals(val, v, "--labels " + value + " changed the validation split of seed 0");
            int[] t = train instanceof Split s ? s.indices() : null;
            assertNotNull(t, value);
            for (int i : t) assertTrue(Arrays.binarySearch(v, i) < 0, "--labels " + value + ": labelled image " + i + " is also a validation image");
            int expected = switch (value) { case "0.01", "600" -> 600; case "0.1" -> 6000; default -> 54000; };
            assertEquals(expected, t.length, "--labels " + value);
            assertEquals(Integer.toString(expected / 10), o.recorded().get("labels_per_class"), "--labels " + value);
        }
        // the draw depends on its own seed, the validation split on --seed only
        LabelOptions a = labels("0.01", 3), b = labels("0.01", 4);
        assertFalse(Arrays.equals(((Split) a.labelled(a.holdOut(all, 0.1, 0)[0], all.size())).indices(),
                ((Split) b.labelled(b.holdOut(all, 0.1, 0)[0], all.size())).indices()), "--label-seed 3 and 4 drew the same images");
    }

    @Test
    void badLabelsAreRefusedInOneLineNamingTheOption() {
        String[][] cases = {
                {"0", "no labelled image"}, {"-1", "neither a fraction"}, {"1.5", "not a fraction in (0, 1]"}, {"abc", "neither a fraction"},
                {"0.0000001", "0 per class"}, {"605", "not a multiple of the 10 classes"}, {"5", "fewer than the 10 classes"},
                {"100000", "asks for 10000 images per class"}};
        for (String[] c : cases) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(err, "knn", "--raw-pixels", "--limit", "200", "--labels", c[0]), c[0] + ": " + err);
            String e = err.toString().strip();
            assertEquals(1, e.lines().count(), e);
            assertTrue(e.startsWith("mae knn: --labels " + c[0] + " ") && e.contains(c[1]), e);
        }
        for (String command : new String[] {"finetune", "linprobe"}) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(err, command, "--random-init", "--limit", "200", "--labels", "abc"), err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertTrue(err.toString().startsWith("mae " + command + ": --labels abc is neither a fraction"), err.toString());
        }
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "knn", "--raw-pixels", "--limit", "200", "--label-seed", "2"));
        assertTrue(err.toString().contains("--label-seed needs --labels"), err.toString());
    }

    @Test
    void finetuneRecordsTheLabelsAndItsResumeKeepsThem(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ft");
        String[] args = {"finetune", "--random-init", "--limit", "400", "--epochs", "1", "--batch", "20", "--warmup-epochs", "1",
                "--val-fraction", "0.25", "--labels", "0.2", "--label-seed", "1", "--out", out.toString()};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, concat(args, "--max-steps", "2")), err.toString());
        Path ckpt = out.resolve("checkpoint.zip");
        Map<String, String> recipe = Checkpoint.load(ckpt).options();
        assertEquals("0.2", recipe.get("labels"));
        assertEquals("1", recipe.get("label_seed"));
        assertEquals("8", recipe.get("labels_per_class"), "round(0.2 x 400 / 10)");
        String start = Files.readAllLines(out.resolve("metrics.jsonl")).get(0);
        assertTrue(start.contains("\"labels\":\"0.2\"") && start.contains("\"labelled_images\":\"80\""), start);

        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--resume", ckpt.toString(), "--out", out.toString(), "--labels", "0.1"));
        assertTrue(err.toString().contains("--labels 0.1 conflicts with the checkpoint's 0.2"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--resume", ckpt.toString(), "--out", out.toString(), "--label-seed", "2"));
        assertTrue(err.toString().contains("--label-seed 2 conflicts with the checkpoint's 1"), err.toString());

        err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--resume", ckpt.toString(), "--out", out.toString()), err.toString());
        Checkpoint.Contents c = Checkpoint.load(ckpt);
        assertEquals(4, c.state().step(), "80 labelled images / 20 per step");
        JsonNode r = new ObjectMapper().readTree(out.resolve("finetune.json").toFile());
        assertEquals("0.2", r.get("labels").asText());
        assertEquals(1, r.get("label_seed").asLong());
        assertEquals(80, r.get("labelled_images").asInt());
        assertEquals(8, r.get("labels_per_class").asInt());
    }

    @Test
    void linprobeAndKnnUseOnlyTheLabelledImages(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        Path probe = tmp.resolve("probe");
        String[] args = {"linprobe", "--raw-pixels", "--limit", "400", "--epochs", "2", "--warmup-epochs", "1", "--batch", "50", "--out", probe.toString()};
        assertEquals(0, run(err, concat(args, "--labels", "100")), err.toString());
        JsonNode r = new ObjectMapper().readTree(probe.resolve("linprobe.json").toFile());
        assertEquals(100, r.get("train_images").asInt());
        assertEquals(10, r.get("labels_per_class").asInt());
        assertEquals(4, Checkpoint.load(probe.resolve("checkpoint.zip")).state().step(), "100 labelled features / 50 x 2 epochs");

        // a run without --labels used every label: its resume refuses one
        Path all = tmp.resolve("all");
        assertEquals(0, run(err, "linprobe", "--raw-pixels", "--limit", "400", "--epochs", "2", "--batch", "100", "--max-steps", "1", "--out", all.toString()), err.toString());
        assertNull(Checkpoint.load(all.resolve("checkpoint.zip")).options().get("labels"), "nothing recorded without --labels");
        err = new StringWriter();
        assertEquals(2, run(err, "linprobe", "--resume", all.resolve("checkpoint.zip").toString(), "--out", all.toString(), "--labels", "100"));
        assertTrue(err.toString().contains("--labels 100 conflicts with the checkpoint's all"), err.toString());

        err = new StringWriter();
        Path knn = tmp.resolve("knn.json");
        assertEquals(0, run(err, "knn", "--raw-pixels", "--limit", "400", "--labels", "0.25", "--label-seed", "2", "--out", knn.toString()), err.toString());
        JsonNode k = new ObjectMapper().readTree(knn.toFile());
        assertEquals(100, k.get("train_images").asInt(), "the neighbours: 10 of every class");
        assertEquals(400, k.get("test_images").asInt());
        assertEquals(2, k.get("label_seed").asLong());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
