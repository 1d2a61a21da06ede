package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae pretrain end to end on the embedded Fashion-MNIST, a few steps at a time. */
class PretrainCommandTest {

    private record Run(int exit, String err) {}

    private static Run mae(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, err.toString());
    }

    private static List<String> lines(Path f, String type) throws Exception {
        return Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> l.contains("\"type\":\"" + type + "\"")).toList();
    }

    @Test
    void pretrainWritesOutputsRefusesToOverwriteAndResumes(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        String[] args = {"pretrain", "--out", out.toString(), "--limit", "32", "--batch", "16", "--epochs", "2", "--viz-images", "3"};
        // 32 images / batch 16 = 2 steps per epoch: stop at step 3, in the middle of epoch 2.
        Run first = mae(concat(args, "--max-steps", "3"));
        assertEquals(0, first.exit(), first.err());
        Path ckpt = out.resolve("checkpoint.zip");
        assertEquals(3, Checkpoint.load(ckpt).state().step());
        assertEquals(3, lines(out.resolve("metrics.jsonl"), "step").size());
        assertEquals(1, lines(out.resolve("metrics.jsonl"), "epoch_end").size());
        for (String png : List.of("recon-init.png", "recon-epoch-001.png", "loss.png")) {
            assertNotNull(ImageIO.read(out.resolve(png).toFile()), png + " should be a readable PNG");
        }
        int rowHeight = 28 * org.mae4j.examples.viz.ReconstructionGrid.defaultScale(28, 28) + org.mae4j.examples.viz.ReconstructionGrid.SEPARATOR;
        assertEquals(org.mae4j.examples.viz.ReconstructionGrid.TITLE_HEIGHT + 3 * rowHeight + org.mae4j.examples.viz.ReconstructionGrid.SEPARATOR,
                ImageIO.read(out.resolve("recon-epoch-001.png").toFile()).getHeight(), "one row per --viz-images");

        byte[] saved = Files.readAllBytes(ckpt);
        Run again = mae(args);
        assertEquals(2, again.exit());
        assertTrue(again.err().contains("already holds a run") && again.err().contains("--resume"), again.err());
        assertArrayEquals(saved, Files.readAllBytes(ckpt), "a refused run must not touch the checkpoint");

        Run resumed = mae(concat(args, "--resume", ckpt.toString()));
        assertEquals(0, resumed.exit(), resumed.err());
        assertEquals(4, Checkpoint.load(ckpt).state().step());
        assertEquals(2, Checkpoint.load(ckpt).state().epoch());
        assertEquals(4, lines(out.resolve("metrics.jsonl"), "step").size(), "the resumed run appends to the metrics");
        assertEquals(2, lines(out.resolve("metrics.jsonl"), "start").size(), "one start row per JVM");
        assertTrue(Files.exists(out.resolve("recon-epoch-002.png")));
    }

    /**
     * Study II's continuation on a fresh machine (docs/study2/run.sh): only checkpoint.zip and metrics.jsonl of a
     * stopped run are committed; copied into an empty folder elsewhere they continue the run exactly as if it had
     * never stopped. tinyFmnist6Lite, the study's preset.
     */
    @Test
    void aStoppedRunContinuesFromACopyOfItsCheckpointAndMetricsInAnotherFolder(@TempDir Path tmp) throws Exception {
        String[] base = {"pretrain", "--preset", "tinyFmnist6Lite", "--limit", "48", "--batch", "16", "--epochs", "3", "--viz-images", "0"};
        Path whole = tmp.resolve("whole"), stopped = tmp.resolve("stopped"), copy = tmp.resolve("fresh-clone/continue");
        assertEquals(0, mae(concat(base, "--out", whole.toString())).exit());
        assertEquals(0, mae(concat(base, "--out", stopped.toString(), "--max-steps", "4")).exit(), "stops in the middle of epoch 2");
        Files.createDirectories(copy);
        for (String f : List.of("checkpoint.zip", "metrics.jsonl")) Files.copy(stopped.resolve(f), copy.resolve(f));
        Run continued = mae(concat(base, "--out", copy.toString(), "--resume", copy.resolve("checkpoint.zip").toString()));
        assertEquals(0, continued.exit(), continued.err());
        assertArrayEquals(Checkpoint.load(whole.resolve("checkpoint.zip")).params().flatParams().data().asFloat(),
                Checkpoint.load(copy.resolve("checkpoint.zip")).params().flatParams().data().asFloat(), "the continued run's weights are the uninterrupted run's");
        List<Double> wholeMeans = lines(whole.resolve("metrics.jsonl"), "epoch_end").stream().map(l -> org.mae4j.train.RunFolder.numbers(l).get("loss")).toList();
        List<Double> copyMeans = lines(copy.resolve("metrics.jsonl"), "epoch_end").stream().map(l -> org.mae4j.train.RunFolder.numbers(l).get("loss")).toList();
        assertEquals(wholeMeans, copyMeans, "every epoch's mean loss, the resumed epoch's included");
    }

    @Test
    void aCorruptImageInAFolderIsSkippedWithACountOrFailsTheRunNamingIt(@TempDir Path tmp) throws Exception {
        Path images = tmp.resolve("images");
        Files.createDirectories(images);
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 20; i++) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) img.setRGB(x, y, r.nextInt(1 << 24));
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
        Files.write(images.resolve("broken.png"), java.util.Arrays.copyOf(Files.readAllBytes(images.resolve("img0.png")), 40));
        String[] args = {"pretrain", "--preset", "micro", "--data", images.toString(), "--batch", "4", "--epochs", "1", "--viz-images", "0"};
        Run skip = mae(concat(args, "--out", tmp.resolve("skip").toString()));
        assertEquals(0, skip.exit(), skip.err());
        assertTrue(lines(tmp.resolve("skip").resolve("metrics.jsonl"), "start").get(0).contains("\"skipped_images\":\"1\""));
        assertEquals(5, Checkpoint.load(tmp.resolve("skip").resolve("checkpoint.zip")).state().step(), "20 readable images / batch 4");

        Run fail = mae(concat(args, "--out", tmp.resolve("fail").toString(), "--on-bad-image", "fail"));
        assertEquals(2, fail.exit());
        assertTrue(fail.err().contains("broken.png") && !fail.err().contains("java."), fail.err());
        assertFalse(Files.exists(tmp.resolve("fail").resolve("checkpoint.zip")));
    }

    @Test
    void knnEveryLogsScoresDrawsThemAndLeavesTheTrainingUntouched(@TempDir Path tmp) throws Exception {
        // tinyFmnist6: the cheapest preset that fits Fashion-MNIST's 28 px
        String[] base = {"pretrain", "--limit", "64", "--batch", "16", "--epochs", "3", "--viz-images", "0", "--preset", "tinyFmnist6"};
        Path plain = tmp.resolve("plain"), watched = tmp.resolve("watched");
        assertEquals(0, mae(concat(base, "--out", plain.toString())).exit());
        Run r = mae(concat(base, "--out", watched.toString(), "--knn-every", "2", "--knn-train", "40"));
        assertEquals(0, r.exit(), r.err());
        List<String> plainEpochs = lines(plain.resolve("metrics.jsonl"), "epoch_end"), knnEpochs = lines(watched.resolve("metrics.jsonl"), "epoch_end");
        assertEquals(3, knnEpochs.size());
        assertFalse(knnEpochs.get(0).contains("knn_val_top1"), "epoch 1 is not a multiple of --knn-every 2: " + knnEpochs.get(0));
        assertTrue(knnEpochs.get(1).contains("knn_val_top1") && !knnEpochs.get(1).contains("knn_test_top1"), knnEpochs.get(1));
        assertTrue(knnEpochs.get(2).contains("knn_val_top1") && knnEpochs.get(2).contains("knn_test_top1"), "the last epoch scores the test set too: " + knnEpochs.get(2));
        // the logged score is the final weights' score: recomputed here from the checkpoint with the split the option documents
        Checkpoint.Contents c = Checkpoint.load(watched.resolve("checkpoint.zip"));
        var model = new org.mae4j.mae.MaskedAutoencoder(c.config(), c.params(), org.mae4j.mae.MaskedAutoencoder.defaultKernels(org.nd4j.linalg.api.buffer.DataType.FLOAT));
        var split = org.mae4j.data.Split.holdOut(new org.mae4j.data.Subset(EmbeddedFashionMnist.load(true), 64), 0.1, 0);
        var eval = new org.mae4j.probe.KnnEvaluation(new org.mae4j.data.Subset(split[0], 40), split[1],
                org.mae4j.data.Augment.mae(1).withNormalization(c.normalization().mean(), c.normalization().std()),
                org.mae4j.probe.Features.Pool.CLS, org.mae4j.probe.Knn.dino(), 256);
        assertEquals(eval.score(model).score().top1(), org.mae4j.train.RunFolder.numbers(knnEpochs.get(2)).get("knn_val_top1"), 1e-12);
        assertEquals(eval.withQueries(new org.mae4j.data.Subset(EmbeddedFashionMnist.load(false), 64)).score(model).score().top1(),
                org.mae4j.train.RunFolder.numbers(knnEpochs.get(2)).get("knn_test_top1"), 1e-12);
        for (int e = 0; e < 3; e++) {
            assertEquals(org.mae4j.train.RunFolder.numbers(plainEpochs.get(e)).get("loss"), org.mae4j.train.RunFolder.numbers(knnEpochs.get(e)).get("loss"),
                    "epoch " + (e + 1) + ": the k-NN only reads the weights, the losses must be identical");
        }
        assertArrayEquals(Checkpoint.load(plain.resolve("checkpoint.zip")).params().flatParams().data().asFloat(),
                Checkpoint.load(watched.resolve("checkpoint.zip")).params().flatParams().data().asFloat(), "the same weights at the end");
        int plainHeight = ImageIO.read(plain.resolve("loss.png").toFile()).getHeight();
        assertTrue(ImageIO.read(watched.resolve("loss.png").toFile()).getHeight() > plainHeight, "the k-NN panel is drawn under the loss");

        Run bad = mae(concat(base, "--out", tmp.resolve("bad").toString(), "--knn-train", "5"));
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("--knn-every"), bad.err());
    }

    @Test
    void knnPoolMeanScoresTheMeanOfThePatchTokens(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("mean");
        Run r = mae("pretrain", "--limit", "64", "--batch", "16", "--epochs", "1", "--viz-images", "0", "--preset", "tinyFmnist6Lite",
                "--knn-every", "1", "--knn-train", "40", "--knn-pool", "mean", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        Checkpoint.Contents c = Checkpoint.load(out.resolve("checkpoint.zip"));
        var model = new org.mae4j.mae.MaskedAutoencoder(c.config(), c.params(), org.mae4j.mae.MaskedAutoencoder.defaultKernels(org.nd4j.linalg.api.buffer.DataType.FLOAT));
        var split = org.mae4j.data.Split.holdOut(new org.mae4j.data.Subset(EmbeddedFashionMnist.load(true), 64), 0.1, 0);
        var augment = org.mae4j.data.Augment.mae(1).withNormalization(c.normalization().mean(), c.normalization().std());
        double logged = org.mae4j.train.RunFolder.numbers(lines(out.resolve("metrics.jsonl"), "epoch_end").get(0)).get("knn_val_top1");
        assertEquals(new org.mae4j.probe.KnnEvaluation(new org.mae4j.data.Subset(split[0], 40), split[1], augment, org.mae4j.probe.Features.Pool.MEAN,
                org.mae4j.probe.Knn.dino(), 256).score(model).score().top1(), logged, 1e-12, "the logged score is the mean-pooled one");
        assertEquals("mean", c.provenance().get("knn_pool"));
        Run bad = mae("pretrain", "--out", tmp.resolve("bad").toString(), "--knn-every", "1", "--knn-pool", "max");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("--knn-pool") && bad.err().contains("max") && bad.err().lines().count() == 1, bad.err());
        Run alone = mae("pretrain", "--out", tmp.resolve("alone").toString(), "--knn-pool", "mean");
        assertEquals(2, alone.exit());
        assertTrue(alone.err().contains("--knn-every"), alone.err());
    }

    @Test
    void badArgumentsGiveOneClearLine(@TempDir Path tmp) {
        Run r = mae("pretrain", "--out", tmp.resolve("a").toString(), "--batch", "0");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("batch size must be >= 1, got 0"), r.err());
        r = mae("pretrain", "--out", tmp.resolve("b").toString(), "--data", tmp.resolve("missing").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--data") && r.err().contains("missing"), r.err());
        r = mae("pretrain", "--out", tmp.resolve("c").toString(), "--preset", "nope");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("nope"), r.err());
        r = mae("pretrain", "--out", tmp.resolve("d").toString(), "--resume", tmp.resolve("none.zip").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("none.zip"), r.err());
        assertFalse(Files.exists(tmp.resolve("a").resolve("checkpoint.zip")));
        r = mae("pretrain", "--out", tmp.resolve("e").toString(), "--batch", "60000");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("batch 60000") && r.err().contains("--accum"), r.err());
        assertFalse(Files.exists(tmp.resolve("e")), "a refused batch writes nothing");
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
