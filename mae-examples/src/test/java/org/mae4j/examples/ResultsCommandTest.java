package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae results on a hand-made study folder: rows, order, hours, the k-NN curve, unfinished steps, bad rows. */
class ResultsCommandTest {

    private static void row(Path runs, String name, String protocol, String encoder, String result, String command, String... seconds) throws Exception {
        Files.writeString(runs.resolve(name + ".row"), String.join("\t", name, protocol, encoder, result, command) + "\n");
        if (seconds.length > 0) Files.writeString(runs.resolve(name + ".seconds"), String.join("\n", seconds) + "\n");
    }

    @Test
    void gathersFinishedStepsInTheTablesOrder(@TempDir Path tmp) throws Exception {
        Path runs = Files.createDirectories(tmp.resolve("runs")), out = tmp.resolve("out");
        row(runs, "pretrain", "pretrain", "mae", "pretrain.done", "./mae pretrain --out RUNS/pretrain", "3600", "1800");
        Files.createFile(runs.resolve("pretrain.done"));
        Files.createDirectories(runs.resolve("pretrain"));
        Files.writeString(runs.resolve("pretrain/metrics.jsonl"), String.join("\n",
                "{\"type\":\"step\",\"epoch\":1,\"step\":1,\"loss\":1.0}",
                "{\"type\":\"epoch_end\",\"epoch\":1,\"step\":1,\"loss\":1.0}",
                "{\"type\":\"epoch_end\",\"epoch\":2,\"step\":2,\"loss\":0.9,\"knn_val_top1\":0.5}",
                "{\"type\":\"epoch_end\",\"epoch\":3,\"step\":3,\"loss\":0.8,\"knn_val_top1\":0.625,\"knn_test_top1\":0.6}") + "\n");
        row(runs, "knn-mae", "knn", "mae", "knn-mae.json", "./mae knn --weights RUNS/pretrain/checkpoint.zip", "36");
        Files.writeString(runs.resolve("knn-mae.json"), "{\"test_top1\": 0.75, \"test_top5\": 0.97}");
        row(runs, "knn-raw", "knn", "raw-pixels", "knn-raw.json", "./mae knn --raw-pixels", "18");
        Files.writeString(runs.resolve("knn-raw.json"), "{\"test_top1\": 0.8569, \"test_top5\": 0.9906}");
        row(runs, "scratch-compute", "scratch", "none", "scratch-compute/finetune.json", "./mae finetune --random-init", "7200");

        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("results", "--runs", runs.toString(), "--out", out.toString()), err.toString());

        JsonNode r = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals("fashion-mnist", r.get("dataset").asText());
        JsonNode rows = r.get("rows");
        assertEquals(2, rows.size(), "the unfinished scratch step and the pretraining are not result rows: " + rows);
        assertEquals("knn-raw", rows.get(0).get("name").asText(), "raw pixels come before the MAE encoder");
        assertEquals(0.8569, rows.get(0).get("top1").asDouble(), 0);
        assertEquals("knn", rows.get(1).get("protocol").asText());
        assertEquals("mae", rows.get(1).get("encoder").asText());
        assertEquals(0.97, rows.get(1).get("top5").asDouble(), 0);
        assertEquals(0.01, rows.get(1).get("hours").asDouble(), 1e-9, "36 s");
        assertEquals("./mae knn --weights RUNS/pretrain/checkpoint.zip", rows.get(1).get("command").asText());
        JsonNode pre = r.get("pretraining");
        assertEquals(1.5, pre.get("hours").asDouble(), 1e-9, "two invocations, 3600 + 1800 s");
        assertTrue(pre.get("done").asBoolean());
        assertEquals(3, pre.get("epochs_done").asInt());
        assertEquals(2, pre.get("knn_curve").size(), "epochs 2 and 3 carry a k-NN score");
        assertEquals(0.6, pre.get("knn_curve").get(1).get("test_top1").asDouble(), 0);
        String table = Files.readString(out.resolve("table.md"));
        assertTrue(table.contains("| knn-raw | knn | raw-pixels | 85.69% | 99.06% |"), table);
        assertTrue(table.contains("| scratch-compute | scratch | none | (running) | | 2.00 so far |"), table);
        assertTrue(Files.readString(out.resolve("metrics/pretrain.jsonl")).contains("knn_test_top1"));
        assertFalse(Files.readString(out.resolve("metrics/pretrain.jsonl")).contains("\"type\":\"step\""), "per-step rows stay in the run folder");
    }

    @Test
    void labelFractionsAndSeedsGiveTheLabelEfficiencyTableAndChart(@TempDir Path tmp) throws Exception {
        Path runs = Files.createDirectories(tmp.resolve("runs")), out = tmp.resolve("out");
        double[][] top1 = {{0.50, 0.54, 0.58}, {0.80, 0.82, 0.84}};   // fine-tuning at 1% and 10%, three seeds each
        String[] fractions = {"0.01", "0.1"};
        for (int f = 0; f < 2; f++) {
            for (int s = 0; s < 3; s++) {
                String name = "finetune-mae-l" + fractions[f] + "-s" + s;
                row(runs, name, "finetune", "mae", name + ".json", "./mae finetune --weights W --labels " + fractions[f] + " --label-seed " + s, "60");
                Files.writeString(runs.resolve(name + ".json"), "{\"test_top1\": " + top1[f][s] + ", \"test_top5\": 0.99}");
            }
        }
        row(runs, "knn-raw-l1-s0", "knn", "raw-pixels", "knn-raw-l1-s0.json", "./mae knn --raw-pixels --labels 1 --label-seed 0", "6");
        Files.writeString(runs.resolve("knn-raw-l1-s0.json"), "{\"test_top1\": 0.8569, \"test_top5\": 0.99}");

        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("results", "--runs", runs.toString(), "--out", out.toString()), err.toString());

        JsonNode rows = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("rows");
        assertEquals(7, rows.size());
        for (JsonNode r : rows) {
            String name = r.get("name").asText();
            assertEquals(name.contains("-l0.01-") ? 0.01 : name.contains("-l0.1-") ? 0.1 : 1.0, r.get("labels").asDouble(), 0, name);
            assertEquals(Long.parseLong(name.substring(name.length() - 1)), r.get("label_seed").asLong(), name);
        }
        String table = Files.readString(out.resolve("label-efficiency.md"));
        assertTrue(table.startsWith("| arm | 1% labels | 10% labels | 100% labels |"), table);
        assertTrue(table.contains("| finetune-mae | 54.00% (50.00-58.00, 3 seeds) | 82.00% (80.00-84.00, 3 seeds) | - |"), table);
        assertTrue(table.contains("| knn-raw | - | - | 85.69% |"), table);
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.resolve("label-efficiency.png").toFile());
        assertEquals(1000, png.getWidth());
        assertEquals(560, png.getHeight());
        if (System.getenv("MAE4J_KEEP_CHART") != null) Files.copy(out.resolve("label-efficiency.png"), Path.of(System.getenv("MAE4J_KEEP_CHART")),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aStudyWithoutLabelFractionsDrawsNoLabelEfficiencyChart(@TempDir Path tmp) throws Exception {
        Path runs = Files.createDirectories(tmp.resolve("runs")), out = tmp.resolve("out");
        row(runs, "knn-raw", "knn", "raw-pixels", "knn-raw.json", "./mae knn --raw-pixels", "18");
        Files.writeString(runs.resolve("knn-raw.json"), "{\"test_top1\": 0.8569, \"test_top5\": 0.9906}");
        assertEquals(0, Mae.commandLine().execute("results", "--runs", runs.toString(), "--out", out.toString()));
        assertEquals(1.0, new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("rows").get(0).get("labels").asDouble(), 0,
                "a study I row is a run on all labels");
        assertFalse(Files.exists(out.resolve("label-efficiency.png")));
    }

    @Test
    void aBadRowIsNamed(@TempDir Path tmp) throws Exception {
        Path runs = Files.createDirectories(tmp.resolve("runs"));
        row(runs, "knn-x", "knn", "pixels", "knn-x.json", "./mae knn");
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("results", "--runs", runs.toString(), "--out", tmp.resolve("out").toString()));
        assertTrue(err.toString().contains("knn-x.row") && err.toString().contains("unknown encoder 'pixels'"), err.toString());
    }
}
