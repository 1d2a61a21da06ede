package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.config.VitSpec;
import org.mae4j.io.Checkpoint;
import org.mae4j.io.Npy;
import org.mae4j.mae.MaskedAutoencoder;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * No command writes over its own input or over a file it did not make (issue 32, "Data loss"): each refusal is
 * one line naming both paths, exit 2, and the input is left byte for byte.
 */
class OutputsTest {
    private static final MaeConfig GREY28 = new MaeConfig(28, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);

    private record Result(int exit, String err) {}

    private static Result run(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Result(cl.execute(args), err.toString());
    }

    private static Path weights(Path dir) throws IOException {
        MaskedAutoencoder m = MaskedAutoencoder.create(GREY28, new Random(1));
        Path f = dir.resolve("w.zip");
        Checkpoint.save(f, Checkpoint.Contents.weights("pretrain", m.config(), Map.of(), new Normalization(new float[] {0.286f}, new float[] {0.353f}),
                m.params(), Map.of()));
        return f;
    }

    private static Path picture(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(2);
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    /** The command is refused in one line containing every part of expected, and file keeps its bytes. */
    private static void refused(Path file, List<String> expected, String... args) throws IOException {
        byte[] before = Files.readAllBytes(file);
        Result r = run(args);
        assertEquals(2, r.exit(), String.join(" ", args) + "\n" + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String e : expected) assertTrue(r.err().contains(e), "missing '" + e + "' in: " + r.err());
        assertArrayEquals(before, Files.readAllBytes(file), file + " was changed by " + String.join(" ", args));
    }

    @Test
    void reconstructAndKnnRefuseAnOutThatIsTheirWeights(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), img = picture(tmp.resolve("pics/a.png"));
        refused(w, List.of("--out " + w, "is the input --weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(), "--out", w.toString());
        refused(w, List.of("--json " + w, "--weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(),
                "--out", tmp.resolve("r.png").toString(), "--json", w.toString());
        refused(img, List.of("--out " + img, "--images " + img), "reconstruct", "--weights", w.toString(), "--images", img.toString(), "--out", img.toString());
        refused(w, List.of("--out " + w, "--weights " + w), "knn", "--weights", w.toString(), "--limit", "40", "--out", w.toString());
        // --force replaces a file the command did not make, never an input
        refused(w, List.of("--out " + w, "--weights " + w), "knn", "--weights", w.toString(), "--limit", "40", "--out", w.toString(), "--force");
    }

    @Test
    void anOutThatReachesAnInputThroughASymlinkDotDotOrAHardLinkIsRefused(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), img = picture(tmp.resolve("pics/a.png"));
        Path link = Files.createSymbolicLink(tmp.resolve("link.png"), w);
        refused(w, List.of("--out " + link, "--weights " + w, "the same file"), "reconstruct", "--weights", w.toString(), "--images", img.toString(),
                "--out", link.toString(), "--force");
        Path dotdot = tmp.resolve("pics/../w.zip");
        refused(w, List.of("--out " + dotdot, "--weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(),
                "--out", dotdot.toString(), "--force");
        Path linkedDir = Files.createSymbolicLink(tmp.resolve("elsewhere"), tmp);
        refused(w, List.of("--weights " + w), "knn", "--weights", w.toString(), "--limit", "40", "--out", linkedDir.resolve("w.zip").toString(), "--force");
        Path hard = Files.createLink(tmp.resolve("hard.zip"), w);
        refused(w, List.of("--out " + hard, "--weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(),
                "--out", hard.toString(), "--force");
        // an output inside an input folder would become part of that input (a picture among the images)
        refused(img, List.of("lies inside the input folder --images " + tmp.resolve("pics")), "embed", "--weights", w.toString(),
                "--images", tmp.resolve("pics").toString(), "--out", tmp.resolve("pics/v.npy").toString());
        assertFalse(Files.exists(tmp.resolve("pics/v.npy")));
    }

    @Test
    void everySpellingOfTheWeightsIsRefusedAsEveryOutput(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), img = picture(tmp.resolve("pics/a.png"));
        Path linkedDir = Files.createSymbolicLink(tmp.resolve("linked"), tmp);
        List<Path> spellings = List.of(w, tmp.resolve("./w.zip"), tmp.resolve("pics/../w.zip"), Files.createSymbolicLink(tmp.resolve("s.zip"), w),
                Files.createLink(tmp.resolve("h.zip"), w), linkedDir.resolve("w.zip"), Path.of("").toAbsolutePath().relativize(w));
        for (Path o : spellings) {
            String out = o.toString();
            refused(w, List.of("--weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(), "--out", out, "--force");
            refused(w, List.of("--weights " + w), "reconstruct", "--weights", w.toString(), "--images", img.toString(), "--out",
                    tmp.resolve("r.png").toString(), "--json", out, "--force");
            refused(w, List.of("--weights " + w), "knn", "--weights", w.toString(), "--limit", "20", "--out", out, "--force");
        }
        // two outputs of one command on one file
        refused(img, List.of("--json " + tmp.resolve("r.png") + " is also --out"), "reconstruct", "--weights", w.toString(), "--images", img.toString(),
                "--out", tmp.resolve("r.png").toString(), "--json", tmp.resolve("r.png").toString());
    }

    @Test
    void embedReplacesAnExistingNpyOrTxtOnlyWithForce(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), img = picture(tmp.resolve("pics/a.png"));
        Path npy = Files.writeString(tmp.resolve("x.npy"), "mine"), txt = tmp.resolve("x.txt");
        String[] args = {"embed", "--weights", w.toString(), "--images", img.toString(), "--out", npy.toString()};
        refused(npy, List.of("--out " + npy + " exists: pass --force"), args);
        assertFalse(Files.exists(txt), "nothing was written");
        Files.delete(npy);
        Files.writeString(txt, "my notes");
        refused(txt, List.of(txt + " exists: pass --force"), args);
        assertFalse(Files.exists(npy), "nothing was written");
        Files.writeString(npy, "mine");
        List<String> forced = new ArrayList<>(Arrays.asList(args));
        forced.add("--force");
        Result r = run(forced.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(new long[] {1, 32}, Npy.read(npy).shape());
        assertEquals(List.of(img.toString()), Files.readAllLines(txt));
    }

    @Test
    void exportNeverWritesOverItsWeightsEvenWithForce(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), hf = tmp.resolve("hf"), st = hf.resolve("model.safetensors");
        assertEquals(0, run("export", "--weights", w.toString(), "--names", "huggingface", "--out", hf.toString()).exit());
        // a .safetensors file (its config.json beside it) exported over itself
        refused(st, List.of("--out " + st, "is the input --weights " + st), "export", "--weights", st.toString(), "--out", st.toString(), "--force");
        // huggingface names write into a folder: the input's own folder is refused
        refused(st, List.of("lies inside the input folder --weights " + hf), "export", "--weights", hf.toString(),
                "--names", "huggingface", "--out", hf.toString(), "--force");
    }

    @Test
    void aRunFolderHoldingFilesOfAnotherRunOrAnInputIsRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
        String[] tiny = {"--limit", "32", "--batch", "16", "--epochs", "1", "--viz-images", "0"};
        // an unrelated metrics.jsonl (a fresh run truncated it)
        Path mine = Files.createDirectories(tmp.resolve("mine"));
        Path notes = Files.writeString(mine.resolve("metrics.jsonl"), "{\"my\": \"experiment\"}\n", StandardCharsets.UTF_8);
        refused(notes, List.of("output folder " + mine, "metrics.jsonl is not the metrics of a mae4j pretrain run"), with("pretrain", tiny, "--out", mine.toString()));
        // the user's own picture where pretrain draws loss.png, in a folder no run made
        Path pics = Files.createDirectories(tmp.resolve("pics"));
        Path loss = picture(pics.resolve("loss.png"));
        refused(loss, List.of("output folder " + pics, "holds loss.png that no mae4j pretrain run left there"), with("pretrain", tiny, "--out", pics.toString()));
        // resuming run a into run b's folder (it cut b's metrics back and replaced b's checkpoint)
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertEquals(0, run(with("pretrain", tiny, "--out", a.toString())).exit());
        assertEquals(0, run(with("pretrain", tiny, "--out", b.toString())).exit());
        String[] more = {"--limit", "32", "--batch", "16", "--epochs", "2", "--viz-images", "0"};
        refused(b.resolve("metrics.jsonl"), List.of("output folder " + b, "holds another run's files", a.resolve("checkpoint.zip").toString()),
                with("pretrain", more, "--resume", a.resolve("checkpoint.zip").toString(), "--out", b.toString()));
        // its own folder: continued
        Result own = run(with("pretrain", more, "--change-schedule", "--resume", a.resolve("checkpoint.zip").toString(), "--out", a.toString()));
        assertEquals(0, own.exit(), own.err());
        // a finetune into a pretraining's folder
        refused(a.resolve("checkpoint.zip"), List.of("--out " + a + " would replace the input --weights " + a.resolve("checkpoint.zip")), "finetune", "--weights", a.resolve("checkpoint.zip").toString(), "--limit", "32",
                "--epochs", "1", "--out", a.toString());
        // the run folder is the data folder
        refused(loss, List.of("--out " + pics, "is the input --data " + pics), with("pretrain", tiny, "--data", pics.toString(), "--out", pics.toString()));
    }

    @Test
    void finetuneEvalReplacesItsOwnRunsFilesButAStrangersOnlyWithForce(@TempDir Path tmp) throws Exception {
        Path ft = tmp.resolve("ft");
        assertEquals(0, run("finetune", "--random-init", "--limit", "64", "--epochs", "1", "--batch", "32", "--warmup-epochs", "0", "--out", ft.toString()).exit());
        String ckpt = ft.resolve("checkpoint.zip").toString();
        Result r = run("finetune", "--eval", ckpt, "--limit", "64", "--out", ft.toString());
        assertEquals(0, r.exit(), "its own run folder: " + r.err());
        Path other = Files.createDirectories(tmp.resolve("other"));
        Path json = Files.writeString(other.resolve("finetune.json"), "{}");
        refused(json, List.of("--out " + other.resolve("finetune.json") + " exists: pass --force"), "finetune", "--eval", ckpt, "--limit", "64", "--out", other.toString());
        assertEquals(0, run("finetune", "--eval", ckpt, "--limit", "64", "--out", other.toString(), "--force").exit());
        assertNotEquals("{}", Files.readString(json));
        refused(Path.of(ckpt), List.of("--force is for --eval"), "finetune", "--random-init", "--out", tmp.resolve("x").toString(), "--force");
    }

    @Test
    void benchAndResultsRefuseToReplaceAStrangersFile(@TempDir Path tmp) throws Exception {
        Path json = Files.writeString(tmp.resolve("bench.json"), "mine");
        refused(json, List.of("--json " + json + " exists: pass --force"), "bench", "--config", "micro", "--steps", "1", "--warmup", "0", "--no-sgemm", "--json", json.toString());
        Path runs = Files.createDirectories(tmp.resolve("runs"));
        Files.writeString(runs.resolve("pretrain.row"), "pretrain\tpretrain\tmae\tpretrain.done\t./mae pretrain\n");
        Path table = Files.writeString(Files.createDirectories(tmp.resolve("docs")).resolve("table.md"), "my table");
        refused(table, List.of("--out " + table + " exists: pass --force"), "results", "--runs", runs.toString(), "--out", tmp.resolve("docs").toString());
        refused(runs.resolve("pretrain.row"), List.of("lies inside the input folder --runs " + runs), "results", "--runs", runs.toString(), "--out", runs.resolve("r").toString());
    }

    private static String[] with(String command, String[] base, String... more) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(List.of(base));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }
}
