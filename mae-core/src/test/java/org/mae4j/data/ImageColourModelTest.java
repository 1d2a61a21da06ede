package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every colour model an image file can come in either decodes to the right RGB or is refused naming the file:
 * never a picture in wrong colours. javax.imageio decodes a CMYK JPEG into wrong colours (issue 32: RGB
 * (200, 50, 50) came back as (229, 122, 122)), so those are refused, on every path that reads image files
 * (folder images, the folder scan, EvalTransform.read, which embed and Embedder.embedFiles use).
 */
class ImageColourModelTest {

    /**
     * A CMYK JPEG of RGB (200, 50, 50), as Adobe writes them (inverted: 255 - C, ...), by the JDK's own JPEG writer
     * given a 4-band raster (it stores the four components as they are). ImageIO reads it back as (229, 122, 122).
     */
    static Path cmykJpeg(Path file) throws IOException {
        int w = 8, h = 8;
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        int[] inverted = {255 - 55, 255 - 205, 255 - 205, 255 - 0};   // C = 55, M = Y = 205, K = 0 is RGB (200, 50, 50)
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) r.setPixel(x, y, inverted);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        Files.deleteIfExists(file);
        try (ImageOutputStream o = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(o);
            writer.write(null, new IIOImage(r, null, null), null);
        } finally {
            writer.dispose();
        }
        return file;
    }

    private static float[] pixels(Path file, int channels) throws IOException {
        ImageFolder d = ImageFolder.ofFiles(List.of(file), channels, 4);
        float[] v = new float[d.imageLength()];
        d.image(0, v, 0);
        return v;
    }

    @Test
    void cmykJpegsAreRefusedByNameOnEveryPath(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("set/red"));
        Path cmyk = cmykJpeg(dir.resolve("set/red/cmyk.jpg"));
        BufferedImage rgb = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) rgb.setRGB(x, y, 0xc83232);
        ImageIO.write(rgb, "png", dir.resolve("set/red/rgb.png").toFile());

        // a folder image, read unscanned (reconstruct's ofFiles, training without a scan)
        UncheckedIOException read = assertThrows(UncheckedIOException.class, () -> pixels(cmyk, 3));
        assertEquals("cannot decode image " + cmyk + ": " + ImageFolder.CMYK, read.getMessage());
        assertTrue(read.getMessage().contains("CMYK") && read.getMessage().contains("convert it to RGB"));
        assertThrows(UncheckedIOException.class, () -> pixels(cmyk, 1), "grey models too");

        // the scans the commands run before training: whole decode and header only
        for (boolean full : new boolean[] {true, false}) {
            IOException fail = assertThrows(IOException.class, () -> ImageFolder.open(dir.resolve("set"), 3, 4).scan(BadImagePolicy.FAIL, full));
            assertTrue(fail.getMessage().startsWith("unreadable image " + cmyk + ": " + ImageFolder.CMYK), fail.getMessage());
            ImageFolder skipped = ImageFolder.open(dir.resolve("set"), 3, 4).scan(BadImagePolicy.SKIP, full);
            assertEquals(1, skipped.size(), "the RGB one stays");
            assertEquals(List.of(new ImageFolder.BadImage(cmyk, ImageFolder.CMYK)), skipped.skipped());
        }

        // single files (embed, Embedder.embedFiles)
        IOException single = assertThrows(IOException.class, () -> EvalTransform.read(cmyk));
        assertEquals("cannot decode image " + cmyk + ": " + ImageFolder.CMYK, single.getMessage());

        // a picture the caller decoded itself (Embedder.embed(BufferedImage)): ImageIO.read gives the wrong colours
        BufferedImage decoded = ImageIO.read(cmyk.toFile());
        EvalTransform eval = new EvalTransform(4, org.mae4j.config.Normalization.imagenet());
        IllegalArgumentException picture = assertThrows(IllegalArgumentException.class, () -> eval.apply(decoded, new float[3 * 16], 0));
        assertEquals("the picture is " + ImageFolder.CMYK, picture.getMessage());
    }

    @Test
    void otherColourModelsDecodeToTheirRgb(@TempDir Path dir) throws IOException {
        int[] want = {200, 50, 50};
        // RGB, ARGB (alpha dropped), BGR, indexed (a palette), each a flat (200, 50, 50) picture
        int[] types = {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_BYTE_INDEXED};
        for (int type : types) {
            BufferedImage img = type == BufferedImage.TYPE_BYTE_INDEXED
                    ? new BufferedImage(8, 8, type, new IndexColorModel(8, 2, new byte[] {0, (byte) 200}, new byte[] {0, 50}, new byte[] {0, 50}))
                    : new BufferedImage(8, 8, type);
            for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.setRGB(x, y, 0xffc83232);
            Path f = dir.resolve("t" + type + ".png");
            assertTrue(ImageIO.write(img, "png", f.toFile()));
            float[] v = pixels(f, 3);
            for (int c = 0; c < 3; c++) assertEquals(want[c] / 255f, v[c * 16 + 5], 1e-6, "type " + type + " channel " + c);
        }
        // an RGB JPEG: lossy, so within a few levels
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.setRGB(x, y, 0xc83232);
        Path jpg = dir.resolve("rgb.jpg");
        assertTrue(ImageIO.write(img, "jpg", jpg.toFile()));
        float[] v = pixels(jpg, 3);
        for (int c = 0; c < 3; c++) assertEquals(want[c] / 255f, v[c * 16 + 5], 6 / 255f, "jpeg channel " + c);
        assertNull(ImageFolder.decodeProblem(jpg));
    }
}
