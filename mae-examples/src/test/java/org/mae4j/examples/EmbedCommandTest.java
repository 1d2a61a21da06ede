package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.embed.Embedder;
import org.mae4j.io.Checkpoint;
import org.mae4j.io.Npy;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./mae embed end to end on a tiny checkpoint and a handful of PNGs, and its one-line errors. */
class EmbedCommandTest {

    private static final MaeConfig GREY28 = new MaeConfig(28, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);

    private static Path checkpoint(Path dir, MaskedAutoencoder m) throws IOException {
        Path f = dir.resolve("ckpt.zip");
        Checkpoint.save(f, Checkpoint.Contents.weights("pretrain", m.config(), Map.of(), new org.mae4j.config.Normalization(new float[] {0.286f}, new float[] {0.353f}), m.params(), Map.of()));
        return f;
    }

    private static List<Path> pictures(Path dir, int n) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(1);
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(30 + i, 28, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, r.nextInt(1 << 24));
            Path p = dir.resolve(String.format("img%02d.png", i));
            ImageIO.write(img, "png", p.toFile());
            out.add(p);
        }
        return out;
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void writesVectorsAndNamesInRowOrder(@TempDir Path tmp) throws IOException {
        MaskedAutoencoder m = MaskedAutoencoder.create(GREY28, new Random(2));
        Path ckpt = checkpoint(tmp, m);
        List<Path> files = pictures(tmp.resolve("pics"), 5);
        Path out = tmp.resolve("out/vectors.npy");
        Result r = run("embed", "--weights", ckpt.toString(), "--images", tmp.resolve("pics").toString(), "--out", out.toString(),
                "--batch", "2", "--pooling", "mean");
        assertEquals(0, r.exit(), r.err());
        INDArray v = Npy.read(out);
        assertEquals(DataType.FLOAT, v.dataType());
        assertArrayEquals(new long[] {5, 32}, v.shape());
        List<String> names = Files.readAllLines(tmp.resolve("out/vectors.txt"));
        assertEquals(files.stream().map(Path::toString).toList(), names);
        // Row i is the library's vector of file i (same weights, same normalization, MEAN pooling).
        float[][] want = Embedder.load(ckpt).withPooling(Embedder.Pooling.MEAN).embedFiles(files);
        for (int i = 0; i < 5; i++) {
            float[] got = v.getRow(i).toFloatVector();
            for (int c = 0; c < 32; c++) assertEquals(want[i][c], got[c], 1e-5 * (1 + Math.abs(want[i][c])), "row " + i + " component " + c);
        }
    }

    @Test
    void otherImageSizeAndExplicitFiles(@TempDir Path tmp) throws IOException {
        Path ckpt = checkpoint(tmp, MaskedAutoencoder.create(GREY28, new Random(3)));
        List<Path> files = pictures(tmp.resolve("pics"), 3);
        Path out = tmp.resolve("v.npy");
        Result r = run("embed", "--weights", ckpt.toString(), "--images", files.get(2).toString(), files.get(0).toString(),
                "--out", out.toString(), "--image-size", "36");
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(new long[] {2, 32}, Npy.read(out).shape());
        assertEquals(List.of(files.get(2).toString(), files.get(0).toString()), Files.readAllLines(tmp.resolve("v.txt")));
    }

    @Test
    void badInputsGiveOneLineErrors(@TempDir Path tmp) throws IOException {
        MaskedAutoencoder m = MaskedAutoencoder.create(GREY28, new Random(4));
        Path ckpt = checkpoint(tmp, m);
        List<Path> files = pictures(tmp.resolve("pics"), 2);
        String out = tmp.resolve("v.npy").toString();

        Path missing = tmp.resolve("missing.png");
        assertOneLine(run("embed", "--weights", ckpt.toString(), "--images", files.get(0).toString(), missing.toString(), "--out", out),
                "mae embed: image file not found: " + missing);

        Path corrupt = tmp.resolve("pics/corrupt.png");
        Files.write(corrupt, new byte[] {1, 2, 3, 4});
        assertOneLine(run("embed", "--weights", ckpt.toString(), "--images", tmp.resolve("pics").toString(), "--out", out),
                "mae embed: cannot decode image " + corrupt);

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLine(run("embed", "--weights", ckpt.toString(), "--images", empty.toString(), "--out", out), "mae embed: no images");

        assertOneLine(run("embed", "--weights", tmp.resolve("nope.zip").toString(), "--images", files.get(0).toString(), "--out", out),
                "mae embed: ");

        m.params().param("blocks.0.attn.qkv.weight").putScalar(new long[] {0, 0}, Float.NaN);
        Path nan = tmp.resolve("nan");
        Files.createDirectories(nan);
        Path nanCkpt = checkpoint(nan, m);
        Result r = run("embed", "--weights", nanCkpt.toString(), "--images", files.get(0).toString(), "--out", out);
        assertOneLine(r, "mae embed: " + nanCkpt);
        assertTrue(r.err().contains("blocks.0.attn.qkv.weight") && r.err().contains("NaN"), r.err());

        assertOneLine(run("embed", "--weights", ckpt.toString(), "--images", files.get(0).toString(), "--out", tmp.resolve("v.csv").toString()),
                "mae embed: --out must name a .npy file");
        assertFalse(Files.exists(tmp.resolve("v.npy")), "no output after an error");
    }

    private static void assertOneLine(Result r, String prefix) {
        assertEquals(2, r.exit(), r.err());
        String err = r.err().strip();
        assertTrue(err.startsWith(prefix), err);
        assertFalse(err.contains("\n") || err.contains("\tat "), "one line, no stack trace: " + err);
    }
}
