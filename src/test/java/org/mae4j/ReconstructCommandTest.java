package org.mae4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.examples.Mae;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ./mae reconstruct and ./mae export end to end on the recorded reference: the reference's weights, images and
 * noise, read from .npy, from exported official-name safetensors and from an exported HuggingFace folder, must
 * give the reference's mask exactly and its loss within 1e-4 relative.
 */
class ReconstructCommandTest {
    private static final double LOSS_RTOL = 1e-4;

    private static String[] run(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new String[] {String.valueOf(exit), err.toString()};
    }

    private static JsonNode reconstruct(Reference ref, Path tmp, String tag, String... weightArgs) throws Exception {
        Path png = tmp.resolve(tag + ".png"), json = tmp.resolve(tag + ".json");
        String[] base = {"reconstruct", "--images-npy", ref.dir().resolve("images.npy").toString(),
                "--noise", ref.dir().resolve("noise.npy").toString(), "--out", png.toString(), "--json", json.toString()};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(weightArgs)).toArray(String[]::new);
        String[] r = run(args);
        assertEquals("0", r[0], tag + ": " + r[1]);
        assertNotNull(ImageIO.read(png.toFile()), tag + ": the PNG must be readable");
        return new ObjectMapper().readTree(json.toFile());
    }

    private static void assertMatchesReference(Reference ref, JsonNode got, String tag) {
        double want = ref.scalar("loss");
        double loss = got.get("loss").asDouble();
        assertTrue(Math.abs(loss - want) <= LOSS_RTOL * Math.abs(want), tag + ": loss " + loss + " vs reference " + want);
        INDArray mask = ref.array("mask");
        JsonNode rows = got.get("mask");
        for (int i = 0; i < mask.size(0); i++) {
            for (int j = 0; j < mask.size(1); j++) {
                assertEquals(mask.getDouble(i, j), rows.get(i).get(j).asDouble(), tag + ": mask[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void nonFiniteInputOrWeightsAreRefused(@TempDir Path tmp) throws Exception {
        Reference ref = Reference.load("micro-s1");
        INDArray images = org.mae4j.io.Npy.read(ref.dir().resolve("images.npy"));
        images.putScalar(new long[] {1, 2, 3, 4}, Float.NaN);
        Path bad = tmp.resolve("nan.npy");
        org.mae4j.io.Npy.write(bad, images);
        String[] r = run("reconstruct", "--images-npy", bad.toString(), "--weights", ref.params().toString(), "--preset", "micro", "--out", tmp.resolve("a.png").toString());
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("NaN or infinity") && r[1].contains("nan.npy"), r[1]);
        assertFalse(java.nio.file.Files.exists(tmp.resolve("a.png")), "no picture of a NaN loss");

        Path weights = tmp.resolve("w");
        java.nio.file.Files.createDirectories(weights);
        try (var files = java.nio.file.Files.list(ref.params())) {
            for (Path f : files.toList()) java.nio.file.Files.copy(f, weights.resolve(f.getFileName()));
        }
        INDArray w = org.mae4j.io.Npy.read(weights.resolve("decoder_pred.bias.npy"));
        w.putScalar(0, Float.POSITIVE_INFINITY);
        org.mae4j.io.Npy.write(weights.resolve("decoder_pred.bias.npy"), w);
        r = run("reconstruct", "--images-npy", ref.dir().resolve("images.npy").toString(), "--weights", weights.toString(), "--preset", "micro", "--out", tmp.resolve("b.png").toString());
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("decoder_pred.bias") && r[1].contains("NaN or infinity"), r[1]);
    }

    @Test
    void reconstructGivesTheReferenceNumbersFromEveryWeightFormat(@TempDir Path tmp) throws Exception {
        Reference ref = Reference.load("tiny-fmnist-s42");
        assertTrue(ref.config().equals(org.mae4j.config.MaeConfig.tinyFmnist()), "the fixture is the tinyFmnist preset");
        assertMatchesReference(ref, reconstruct(ref, tmp, "npy", "--weights", ref.params().toString(), "--preset", "tinyFmnist"), "npy");

        Path official = tmp.resolve("official.safetensors");
        String[] r = run("export", "--weights", ref.params().toString(), "--preset", "tinyFmnist", "--out", official.toString());
        assertEquals("0", r[0], r[1]);
        assertMatchesReference(ref, reconstruct(ref, tmp, "official", "--weights", official.toString(), "--preset", "tinyFmnist"), "official");

        Path hf = tmp.resolve("hf");
        r = run("export", "--weights", ref.params().toString(), "--preset", "tinyFmnist", "--names", "huggingface", "--out", hf.toString());
        assertEquals("0", r[0], r[1]);
        assertTrue(Files.isRegularFile(hf.resolve("config.json")));
        assertMatchesReference(ref, reconstruct(ref, tmp, "hf", "--weights", hf.toString()), "huggingface");

        // Exports never replace a file silently.
        byte[] before = Files.readAllBytes(official);
        r = run("export", "--weights", ref.params().toString(), "--preset", "tinyFmnist", "--out", official.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("--force"), r[1]);
        assertArrayEquals(before, Files.readAllBytes(official));
    }

    @Test
    void reconstructReadsImageFilesAndRejectsBadInput(@TempDir Path tmp) throws Exception {
        Reference ref = Reference.load("micro-s1");
        // Two RGB PNGs written from random pixels; the micro model takes 3-channel 16px images.
        Path a = tmp.resolve("a.png"), b = tmp.resolve("b.png");
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(20, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.util.Random rnd = new java.util.Random(5);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 20; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
        ImageIO.write(img, "png", a.toFile());
        ImageIO.write(img, "png", b.toFile());
        Path png = tmp.resolve("files.png");
        String[] r = run("reconstruct", "--weights", ref.params().toString(), "--preset", "micro", "--images", a.toString(), b.toString(),
                "--seed", "3", "--out", png.toString());
        assertEquals("0", r[0], r[1]);
        assertEquals(2, (ImageIO.read(png.toFile()).getHeight() - org.mae4j.examples.viz.ReconstructionGrid.TITLE_HEIGHT
                - org.mae4j.examples.viz.ReconstructionGrid.SEPARATOR) / (16 * org.mae4j.examples.viz.ReconstructionGrid.defaultScale(16, 16)
                + org.mae4j.examples.viz.ReconstructionGrid.SEPARATOR), "one row per image");

        r = run("reconstruct", "--weights", ref.params().toString(), "--images", a.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("--preset"), "weights without a config need --preset: " + r[1]);

        INDArray wrong = Nd4j.rand(DataType.FLOAT, 1, 1, 28, 28);
        Path npy = tmp.resolve("wrong.npy");
        org.mae4j.io.Npy.write(npy, wrong);
        r = run("reconstruct", "--weights", ref.params().toString(), "--preset", "micro", "--images-npy", npy.toString(), "--out", tmp.resolve("x.png").toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("[N, 3, 16, 16]") && r[1].contains("[1, 1, 28, 28]"), r[1]);

        r = run("reconstruct", "--weights", tmp.resolve("nothing-here.safetensors").toString(), "--preset", "micro");
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("nothing-here.safetensors"), r[1]);
    }
}
