package org.mae4j.examples;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every numeric size option of every command, given 0, -1 and 2000000000 on an otherwise tiny run: the answer is
 * a run (the value is valid) or one line naming the problem, exit 2; never an internal error (exit 70), a crash or
 * a stack trace. The failures are collected, so that one run lists them all.
 */
class SizeOptionsFuzzTest {

    private static final MaeConfig GREY28 = new MaeConfig(28, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);
    private static final String[] VALUES = {"0", "-1", "2000000000"};

    @TempDir static Path tmp;
    private static Path weights, image;

    @BeforeAll
    static void inputs() throws Exception {
        MaskedAutoencoder m = MaskedAutoencoder.create(GREY28, DataType.FLOAT, MaskedAutoencoder.defaultKernels(DataType.FLOAT), new Random(0));
        weights = tmp.resolve("w.zip");
        Checkpoint.save(weights, Checkpoint.Contents.weights("pretrain", GREY28, Map.of(),
                new org.mae4j.config.Normalization(new float[] {0.286f}, new float[] {0.353f}), m.params(), Map.of()));
        image = tmp.resolve("a.png");
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB), "png", image.toFile());
    }

    private static int runs;

    /** Runs base + option value for each value; adds what went wrong to failures. */
    private static void fuzz(List<String> failures, List<String> base, String... options) {
        for (String option : options) {
            for (String v : VALUES) {
                List<String> args = new ArrayList<>(base);
                // a fresh output per case: no case resumes, or is refused by, another's folder
                args.replaceAll(a -> a.equals("OUT") ? tmp.resolve("out" + runs).toString() : a.equals("OUTFILE") ? tmp.resolve("out" + runs + ".png").toString() : a);
                runs++;
                int at = args.indexOf(option);   // the base's own value of it is replaced
                if (at >= 0) args.set(at + 1, v);
                else { args.add(option); args.add(v); }
                CommandLine cl = Mae.commandLine();
                StringWriter err = new StringWriter();
                cl.setErr(new PrintWriter(err));
                int code;
                try {
                    code = cl.execute(args.toArray(String[]::new));
                } catch (Throwable t) {
                    failures.add(String.join(" ", args.subList(0, 1)) + " " + option + " " + v + ": threw " + t);
                    continue;
                }
                String e = err.toString().strip();
                String what = args.get(0) + " " + option + " " + v;
                System.out.println(what + " -> " + code + (e.isEmpty() ? "" : ": " + e));
                if (code == 70 || e.contains("internal error")) failures.add(what + ": " + e);
                else if (code != 0 && code != 2) failures.add(what + ": exit " + code + " " + e);
                else if (e.lines().count() > 1 || e.contains("\tat ")) failures.add(what + ": more than one line: " + e);
            }
        }
    }

    @Test
    void everySizeOptionOfEveryCommandIsARunOrOneLine() {
        List<String> failures = new ArrayList<>();
        String w = weights.toString(), img = image.toString();
        List<String> train = List.of("--limit", "24", "--batch", "8", "--epochs", "1", "--max-steps", "1", "--out", "OUT");
        fuzz(failures, concat(List.of("pretrain", "--preset", "tinyFmnist6", "--viz-images", "0"), train),
                "--limit", "--batch", "--epochs", "--warmup-epochs", "--max-steps", "--save-every", "--accum", "--viz-images",
                "--knn-every", "--workers", "--collective-timeout");
        // the options the three training commands share go through Trainer.Options: pretrain covers them, and the
        // others are given their own options and those they check themselves
        fuzz(failures, concat(List.of("finetune", "--weights", w), train), "--limit", "--batch", "--warmup-epochs", "--accum", "--workers");
        fuzz(failures, concat(List.of("linprobe", "--weights", w, "--extract-batch", "16"), train),
                "--batch", "--warmup-epochs", "--accum", "--extract-batch", "--features-from-blocks");
        fuzz(failures, List.of("knn", "--weights", w, "--limit", "24", "--k", "3"), "--k", "--knn-train", "--batch", "--limit");
        fuzz(failures, List.of("embed", "--weights", w, "--images", img, "--out", tmp.resolve("e.npy").toString()), "--batch", "--image-size");
        fuzz(failures, List.of("reconstruct", "--weights", w, "--out", "OUTFILE"), "--indices");
        fuzz(failures, List.of("bench", "--config", "micro", "--no-sgemm", "--steps", "1", "--warmup", "0"), "--batch", "--steps", "--warmup");
        System.out.println(runs + " cases, " + failures.size() + " failed");
        assertTrue(failures.isEmpty(), failures.size() + " of " + runs + " cases failed:\n" + String.join("\n", failures));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }
}
