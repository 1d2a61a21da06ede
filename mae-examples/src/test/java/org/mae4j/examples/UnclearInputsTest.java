package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.RunFolder;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Inputs that were accepted without a word, or answered in words that do not help (issue 32, "Unclear or
 * ignored"): each is refused or explained in one line naming the flag or the path.
 */
class UnclearInputsTest {

    private static final MaeConfig GREY28 = new MaeConfig(28, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);

    private record Run(int exit, String out, String err) {}

    private static Run mae(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        PrintStream before = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(before);
            System.out.print(out.toString(StandardCharsets.UTF_8));
        }
    }

    private static Path weights(Path dir) throws IOException {
        MaskedAutoencoder m = MaskedAutoencoder.create(GREY28, DataType.FLOAT, MaskedAutoencoder.defaultKernels(DataType.FLOAT), new Random(0));
        Path f = dir.resolve("w.zip");
        Checkpoint.save(f, Checkpoint.Contents.weights("pretrain", GREY28, Map.of(),
                new org.mae4j.config.Normalization(new float[] {0.286f}, new float[] {0.353f}), m.params(), Map.of()));
        return f;
    }

    private static Path png(Path f) throws IOException {
        Files.createDirectories(f.getParent());
        ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB), "png", f.toFile());
        return f;
    }

    /** One line on stderr, exit 2, containing what. */
    private static void refused(Run r, String what) {
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains(what), "expected '" + what + "' in: " + r.err());
        assertFalse(r.err().contains("internal error") || r.err().contains("Could not invoke"), r.err());
    }

    @Test
    void theContinueHintKeepsTheArgumentsQuotedAndItsCommandResumes(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("with space");
        Path w = weights(tmp);
        Run r = mae("linprobe", "--weights", w.toString(), "--data", "fashion-mnist", "--test-data", "fashion-mnist-test", "--limit", "24",
                "--batch", "8", "--epochs", "2", "--max-steps", "1", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        String hint = r.out().lines().filter(l -> l.contains("continue with: ")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        hint = hint.substring(hint.indexOf("continue with: ") + "continue with: ".length());
        assertTrue(hint.contains("--test-data fashion-mnist-test"), hint);
        assertTrue(hint.contains("--out '" + out + "'"), "the path with a space is quoted: " + hint);
        // the hint, split as a shell splits it, is a command that resumes
        Process sh = new ProcessBuilder("bash", "-c", "for a in " + hint + "; do printf '%s\\0' \"$a\"; done").start();
        String[] words = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\0");
        assertEquals(0, sh.waitFor());
        assertEquals("./mae", words[0]);
        Run again = mae(java.util.Arrays.copyOfRange(words, 1, words.length));
        assertEquals(0, again.exit(), again.err());
        assertEquals(2, Checkpoint.load(out.resolve(RunFolder.CHECKPOINT)).state().epoch(), again.out());
    }

    @Test
    void theContinueCommandIsTheOriginalMinusWhatTheResumeReplaces() {
        String c = TrainingCommand.continueCommand(List.of("finetune", "--weights", "a b.zip", "--data", "/d/my images", "--test-data=/t/x",
                "--random-init", "--out=old", "--seed", "3"), "finetune", Path.of("o/checkpoint.zip"), Path.of("o"));
        assertEquals("./mae finetune --data '/d/my images' --test-data=/t/x --seed 3 --resume o/checkpoint.zip --out o", c);
        assertEquals("'it'\\''s'", TrainingCommand.shellQuoted("it's"));
    }

    @Test
    void optionsThatWereIgnoredAreRefusedNamingTheFlag(@TempDir Path tmp) throws Exception {
        String[] tiny = {"--limit", "24", "--batch", "8", "--epochs", "1", "--max-steps", "1"};
        refused(mae(concat(new String[] {"finetune", "--resume", tmp.resolve("c.zip").toString(), "--weights", "w.zip", "--out", tmp.resolve("a").toString()}, tiny)),
                "give no --weights or --random-init");
        refused(mae(concat(new String[] {"linprobe", "--raw-pixels", "--weights", "w.zip", "--out", tmp.resolve("b").toString()}, tiny)),
                "--raw-pixels probes the pixels, not an encoder: give no --weights or --random-init");
        refused(mae(concat(new String[] {"finetune", "--random-init", "--reprob", "-0.5", "--out", tmp.resolve("c").toString()}, tiny)),
                "--reprob must be a probability in [0, 1], got -0.5");
        refused(mae(concat(new String[] {"finetune", "--random-init", "--mixup-switch-prob", "2", "--out", tmp.resolve("d").toString()}, tiny)),
                "--mixup-switch-prob must be a probability in [0, 1], got 2.0");
        refused(mae(concat(new String[] {"finetune", "--random-init", "--mixup-prob", "1.5", "--out", tmp.resolve("e").toString()}, tiny)),
                "--mixup-prob must be a probability");
        refused(mae("bench", "--gemm", "cuda"), "--gemm must be java, openblas or auto, got 'cuda'");
        Path w = weights(tmp), a = png(tmp.resolve("a.png"));
        refused(mae("reconstruct", "--weights", w.toString(), "--images", a.toString(), "--out", tmp.resolve("r.jpg").toString()),
                "reconstruct writes a PNG picture; name a .png file");
        assertFalse(Files.exists(tmp.resolve("r.jpg")));
        refused(mae("reconstruct", "--weights", w.toString(), "--images", a.toString(), "--indices", "3", "--out", tmp.resolve("r.png").toString()),
                "--indices picks images of --data; with --images every image given is shown");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MaeConfig.preset(null));
        assertTrue(e.getMessage().startsWith("no preset name given; known: "), e.getMessage());
    }

    @Test
    void pathsThatAreNotWhatTheySeemAreNamedForWhatTheyAre(@TempDir Path tmp) throws Exception {
        Path w = weights(tmp), folder = tmp.resolve("pics");
        png(folder.resolve("a.png"));
        refused(mae("reconstruct", "--weights", w.toString(), "--images", folder.toString(), "--out", tmp.resolve("r.png").toString()),
                folder + " is a folder, not an image file");
        Exception ex = assertThrows(IOException.class, () -> org.mae4j.embed.Embedder.load(w, null, null).embedFiles(List.of(folder)));
        assertEquals(folder + " is a folder, not an image file", ex.getMessage());
        // a link back to a folder above it
        Path looped = tmp.resolve("looped");
        png(looped.resolve("cls").resolve("b.png"));
        Files.createSymbolicLink(looped.resolve("cls").resolve("up"), looped);
        Run r = mae("embed", "--weights", w.toString(), "--images", looped.toString(), "--out", tmp.resolve("e.npy").toString());
        refused(r, "leads back to a folder above it (a link loop)");
        assertTrue(r.err().contains(looped.resolve("cls").resolve("up").toString()) && !r.err().contains("FileSystemLoopException"), r.err());
        // a file where the output folder should be: say so, not just the path
        Files.writeString(tmp.resolve("file"), "x");
        IOException io = assertThrows(IOException.class, () -> RunFolder.open(tmp.resolve("file").resolve("run"), null, Map.of()));
        assertTrue(io.getMessage().contains("cannot create it (Not a directory on " + tmp.resolve("file").resolve("run") + ")"), io.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        List<String> r = new ArrayList<>(List.of(a));
        r.addAll(List.of(b));
        return r.toArray(String[]::new);
    }
}
