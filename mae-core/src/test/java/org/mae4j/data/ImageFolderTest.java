package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderTest {

    private static final float EPS = 1e-6f;

    private static Path write(Path file, BufferedImage img) throws IOException {
        Files.createDirectories(file.getParent());
        String name = file.getFileName().toString().toLowerCase();
        String format = name.endsWith(".png") ? "png" : "jpg";
        assertTrue(ImageIO.write(img, format, file.toFile()), "no ImageIO writer for " + format);
        return file;
    }

    private static BufferedImage rgb(int w, int h, int argb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, argb);
        return img;
    }

    /** A grey image with the given values, row by row. */
    private static BufferedImage grey(int w, int h, int... values) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setPixels(0, 0, w, h, values);
        return img;
    }

    private static float[] read(ImageFolder f, int i) {
        float[] dst = new float[f.imageLength()];
        f.image(i, dst, 0);
        return dst;
    }

    @Test
    void labeledLayoutIsClassPerSubfolderSortedByName(@TempDir Path root) throws IOException {
        write(root.resolve("dog/b.png"), rgb(4, 4, 0x808080));
        write(root.resolve("cat/z.PNG"), rgb(4, 4, 0x808080));
        write(root.resolve("cat/a.jpg"), rgb(4, 4, 0x808080));
        write(root.resolve("cat/nested/m.jpeg"), rgb(4, 4, 0x808080));
        Files.writeString(root.resolve("cat/notes.txt"), "not an image");
        Files.writeString(root.resolve("README"), "not an image either");
        write(root.resolve(".hidden/x.png"), rgb(4, 4, 0));

        ImageFolder f = ImageFolder.open(root, 3, 4);
        assertTrue(f.hasLabels());
        assertEquals(List.of("cat", "dog"), f.classNames());
        assertEquals(4, f.size());
        // torchvision's order: a directory's own files, then its subdirectories'.
        assertEquals(List.of("cat/a.jpg", "cat/z.PNG", "cat/nested/m.jpeg", "dog/b.png"),
                List.of(rel(f, 0), rel(f, 1), rel(f, 2), rel(f, 3)));
        assertArrayEquals(new int[] {0, 0, 0, 1}, new int[] {f.label(0), f.label(1), f.label(2), f.label(3)});
        assertEquals(3 * 16, f.imageLength());
    }

    private static String rel(ImageFolder f, int i) {
        return f.root().relativize(f.path(i)).toString().replace('\\', '/');
    }

    @Test
    void flatLayoutIsUnlabeled(@TempDir Path root) throws IOException {
        write(root.resolve("b.png"), rgb(5, 5, 0));
        write(root.resolve("a.jpeg"), rgb(5, 5, 0));
        Files.createDirectories(root.resolve("empty"));
        ImageFolder f = ImageFolder.open(root, 1, 5);
        assertFalse(f.hasLabels());
        assertEquals(List.of(), f.classNames());
        assertEquals(2, f.size());
        assertEquals("a.jpeg", f.path(0).getFileName().toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.label(0));
        assertTrue(e.getMessage().contains("unlabeled"), e.getMessage());
    }

    @Test
    void noImagesFails(@TempDir Path root) throws IOException {
        Files.writeString(root.resolve("a.txt"), "x");
        IOException e = assertThrows(IOException.class, () -> ImageFolder.open(root, 3, 8));
        assertTrue(e.getMessage().contains("no images") && e.getMessage().contains(root.toString()), e.getMessage());
        assertThrows(IOException.class, () -> ImageFolder.open(root.resolve("missing"), 3, 8));
    }

    @Test
    void emptyClassAndMixedLayoutFail(@TempDir Path root) throws IOException {
        write(root.resolve("cat/a.png"), rgb(2, 2, 0));
        Files.createDirectories(root.resolve("dog"));
        IOException empty = assertThrows(IOException.class, () -> ImageFolder.open(root, 3, 2));
        assertTrue(empty.getMessage().contains("dog") && empty.getMessage().contains("no images"), empty.getMessage());
        write(root.resolve("dog/b.png"), rgb(2, 2, 0));
        write(root.resolve("loose.png"), rgb(2, 2, 0));
        IOException mixed = assertThrows(IOException.class, () -> ImageFolder.open(root, 3, 2));
        assertTrue(mixed.getMessage().contains("loose.png"), mixed.getMessage());
    }

    @Test
    void badArguments(@TempDir Path root) throws IOException {
        write(root.resolve("a.png"), rgb(2, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(root, 2, 8));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(root, 3, 0));
    }

    @Test
    void rgbToOneChannelIsLuminanceAndAlphaIsDropped(@TempDir Path root) throws IOException {
        write(root.resolve("0red.png"), rgb(2, 2, 0xff0000));
        write(root.resolve("1green.png"), rgb(2, 2, 0x00ff00));
        write(root.resolve("2blue.png"), rgb(2, 2, 0x0000ff));
        BufferedImage argb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 2; y++) for (int x = 0; x < 2; x++) argb.setRGB(x, y, 0x80_0A_14_1E); // alpha 128
        write(root.resolve("3argb.png"), argb);

        ImageFolder grey = ImageFolder.open(root, 1, 2);
        float[][] expected = {{0.299f}, {0.587f}, {0.114f}, {(0.299f * 10 + 0.587f * 20 + 0.114f * 30) / 255f}};
        for (int i = 0; i < 4; i++) {
            for (float v : read(grey, i)) assertEquals(expected[i][0], v, EPS, grey.path(i).toString());
        }
        ImageFolder colour = ImageFolder.open(root, 3, 2);
        float[] a = read(colour, 3);
        for (int p = 0; p < 4; p++) {
            assertEquals(10 / 255f, a[p], EPS);
            assertEquals(20 / 255f, a[4 + p], EPS);
            assertEquals(30 / 255f, a[8 + p], EPS);
        }
        float[] red = read(colour, 0);
        assertEquals(1f, red[0], EPS);
        assertEquals(0f, red[4], EPS);
        assertEquals(0f, red[8], EPS);
    }

    @Test
    void greyIsReadWithoutGammaAndReplicatedToRgb(@TempDir Path root) throws IOException {
        // getRGB on a TYPE_BYTE_GRAY image would turn 100 into 168 (linear-to-sRGB); the raster value must win.
        write(root.resolve("g.png"), grey(2, 2, 100, 100, 100, 100));
        float[] one = read(ImageFolder.open(root, 1, 2), 0);
        for (float v : one) assertEquals(100 / 255f, v, EPS);
        float[] three = read(ImageFolder.open(root, 3, 2), 0);
        assertEquals(12, three.length);
        for (float v : three) assertEquals(100 / 255f, v, EPS);
    }

    @Test
    void sixteenBitGreyIsScaledByItsOwnRange(@TempDir Path root) throws IOException {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setPixels(0, 0, 2, 1, new int[] {0, 65535});
        write(root.resolve("g16.png"), img);
        // 2x1 -> the centred 1x1 square spans x in [0.5, 1.5); sampled at x = 0.75 and 1.25 it gives 1/4 and 3/4
        // of the white pixel (Pillow agrees), and 65535 must count as 1.
        float[] v = read(ImageFolder.open(root, 1, 2), 0);
        assertArrayEquals(new float[] {0.25f, 0.75f, 0.25f, 0.75f}, v, EPS);
    }

    @Test
    void constantImageStaysConstantAtAnySize(@TempDir Path root) throws IOException {
        write(root.resolve("c.png"), rgb(37, 23, 0x336699));
        for (int size : new int[] {5, 23, 64}) {
            float[] v = read(ImageFolder.open(root, 3, size), 0);
            for (int p = 0; p < size * size; p++) {
                assertEquals(0x33 / 255f, v[p], EPS);
                assertEquals(0x66 / 255f, v[size * size + p], EPS);
                assertEquals(0x99 / 255f, v[2 * size * size + p], EPS);
            }
        }
    }

    @Test
    void twoTimesUpscaleIsBilinearWithHalfPixelCentres(@TempDir Path root) throws IOException {
        int a = 0, b = 40, c = 200, d = 255;
        write(root.resolve("p.png"), grey(2, 2, a, b, c, d));
        float[] v = read(ImageFolder.open(root, 1, 4), 0);
        // Each output pixel of a 2x upscale with edge clamping takes weights (1,0), (.75,.25), (.25,.75), (0,1).
        double[][] w = {{1, 0}, {0.75, 0.25}, {0.25, 0.75}, {0, 1}};
        double[][] src = {{a, b}, {c, d}};
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                double e = 0;
                for (int sy = 0; sy < 2; sy++) for (int sx = 0; sx < 2; sx++) e += w[y][sy] * w[x][sx] * src[sy][sx];
                assertEquals(e / 255, v[y * 4 + x], EPS, "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void nonSquareIsCentreCropped(@TempDir Path root) throws IOException {
        // 4 wide, 2 high at target size 2: no scaling, only the middle two columns survive.
        write(root.resolve("wide.png"), grey(4, 2, 10, 20, 30, 40, 50, 60, 70, 80));
        float[] v = read(ImageFolder.open(root, 1, 2), 0);
        assertArrayEquals(new float[] {20 / 255f, 30 / 255f, 60 / 255f, 70 / 255f}, v, EPS);
        // 2 wide, 4 high: the middle two rows.
        write(root.resolve("tall.png"), grey(2, 4, 10, 20, 30, 40, 50, 60, 70, 80));
        float[] t = read(ImageFolder.open(root, 1, 2), 0);
        assertArrayEquals(new float[] {30 / 255f, 40 / 255f, 50 / 255f, 60 / 255f}, t, EPS);
    }

    @Test
    void downscaleIsAntialiasedLikePillow(@TempDir Path root) throws IOException {
        // Vertical stripes, bright where x % 4 == 0, halved twice (8 -> 2). Pillow's BILINEAR resize widens the
        // triangle filter to 4 source pixels per side and renormalises at the edges, giving 2/7 and 5/28 (values
        // checked against Pillow 9.4). A plain 4-tap bilinear would read columns 1,2 and 5,6 and give 0.
        int[] stripes = new int[64];
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) stripes[y * 8 + x] = (x % 4 == 0) ? 255 : 0;
        write(root.resolve("s.png"), grey(8, 8, stripes));
        float[] v = read(ImageFolder.open(root, 1, 2), 0);
        assertArrayEquals(new float[] {2f / 7, 5f / 28, 2f / 7, 5f / 28}, v, EPS);
    }

    @Test
    void jpegDecodes(@TempDir Path root) throws IOException {
        write(root.resolve("x.jpg"), rgb(16, 16, 0x7f7f7f));
        float[] v = read(ImageFolder.open(root, 3, 8), 0);
        for (float x : v) assertEquals(127 / 255f, x, 3 / 255f);
    }

    @Test
    void undecodableFileFailsNamingIt(@TempDir Path root) throws IOException {
        write(root.resolve("good.png"), rgb(2, 2, 0));
        Path bad = root.resolve("zzz-broken.png");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        ImageFolder f = ImageFolder.open(root, 3, 2); // lazy: opening succeeds
        read(f, 0);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> read(f, 1));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());

        // A real PNG cut short fails too, still naming the file.
        byte[] png = Files.readAllBytes(write(root.resolve("cut.png"), rgb(64, 64, 0x123456)));
        Files.write(root.resolve("cut.png"), java.util.Arrays.copyOf(png, png.length / 2));
        ImageFolder g = ImageFolder.open(root, 3, 2);
        UncheckedIOException cut = assertThrows(UncheckedIOException.class, () -> read(g, 0));
        assertTrue(cut.getMessage().contains("cut.png"), cut.getMessage());
    }

    // ------------------------------------------------------------------ bad images: messages and BadImagePolicy

    /** A fully qualified Java class name, e.g. javax.imageio.IIOException or java.io.IOException. */
    private static final java.util.regex.Pattern JAVA_NAME = java.util.regex.Pattern.compile("\\b(java|javax|sun|com|org)\\.[a-z]+\\.");

    private static void assertPlainOneLine(String m, String... mentions) {
        assertFalse(JAVA_NAME.matcher(m).find(), "message should not show Java class names: " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
        for (String s : mentions) assertTrue(m.contains(s), "message should mention '" + s + "': " + m);
    }

    /** A labeled folder: cat/{a,b,c}.png good, cat/junk.png random bytes, dog/{d}.png good, dog/cut.png truncated, dog/empty.jpg 0 bytes. */
    private static void badFolder(Path root) throws IOException {
        write(root.resolve("cat/a.png"), rgb(4, 4, 0x102030));
        write(root.resolve("cat/b.png"), rgb(4, 4, 0x405060));
        write(root.resolve("cat/c.png"), rgb(4, 4, 0x708090));
        Files.write(root.resolve("cat/junk.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        write(root.resolve("dog/d.png"), rgb(4, 4, 0xa0b0c0));
        java.util.Random r = new java.util.Random(1);
        BufferedImage noisy = rgb(64, 64, 0);
        for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) noisy.setRGB(x, y, r.nextInt());
        byte[] png = Files.readAllBytes(write(root.resolve("dog/cut.png"), noisy));
        Files.write(root.resolve("dog/cut.png"), java.util.Arrays.copyOf(png, png.length / 2));   // header intact, data cut
        Files.write(root.resolve("dog/empty.jpg"), new byte[0]);
    }

    @Test
    void decodeFailureNamesFileAndProblemWithoutClassNames(@TempDir Path root) throws IOException {
        badFolder(root);
        ImageFolder f = ImageFolder.open(root, 3, 4);
        for (String name : new String[] {"cat/junk.png", "dog/cut.png", "dog/empty.jpg"}) {
            int i = index(f, root.resolve(name));
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> read(f, i), name);
            assertPlainOneLine(e.getMessage(), root.resolve(name).toString());
            assertPlainOneLine(e.getCause().getMessage(), root.resolve(name).toString());
        }
        int junk = index(f, root.resolve("cat/junk.png"));
        String m = assertThrows(UncheckedIOException.class, () -> read(f, junk)).getMessage();
        assertTrue(m.contains("not a PNG or JPEG"), m);
        int empty = index(f, root.resolve("dog/empty.jpg"));
        assertTrue(assertThrows(UncheckedIOException.class, () -> read(f, empty)).getMessage().contains("empty file"));
    }

    @Test
    void scanWithFailNamesTheFirstBadImage(@TempDir Path root) throws IOException {
        badFolder(root);
        IOException e = assertThrows(IOException.class, () -> ImageFolder.open(root, 3, 4, BadImagePolicy.FAIL));
        assertPlainOneLine(e.getMessage(), root.resolve("cat/junk.png").toString(), "not a PNG or JPEG");
        IOException full = assertThrows(IOException.class, () -> ImageFolder.open(root, 3, 4).scan(BadImagePolicy.FAIL, true));
        assertPlainOneLine(full.getMessage(), "junk.png");
    }

    @Test
    void scanWithSkipDropsBadImagesAndKeepsLabels(@TempDir Path root) throws IOException {
        badFolder(root);
        // Headers only: the truncated PNG's header reads, so it stays (and fails when decoded, naming itself).
        ImageFolder h = ImageFolder.open(root, 3, 4, BadImagePolicy.SKIP);
        assertEquals(List.of("cat/a.png", "cat/b.png", "cat/c.png", "dog/cut.png", "dog/d.png"), rels(h));
        assertEquals(List.of(root.resolve("cat/junk.png"), root.resolve("dog/empty.jpg")), h.skipped().stream().map(ImageFolder.BadImage::path).toList());
        for (ImageFolder.BadImage b : h.skipped()) assertPlainOneLine(b.problem());
        // Full decoding finds the truncated one too.
        ImageFolder f = ImageFolder.open(root, 3, 4).scan(BadImagePolicy.SKIP, true);
        assertEquals(List.of("cat/a.png", "cat/b.png", "cat/c.png", "dog/d.png"), rels(f));
        assertEquals(3, f.skipped().size());
        assertTrue(f.skipped().get(1).path().endsWith("cut.png"), f.skipped().toString());
        assertPlainOneLine(f.skipped().get(1).toString(), "cut.png");
        assertEquals(List.of("cat", "dog"), f.classNames());
        assertArrayEquals(new int[] {0, 0, 0, 1}, new int[] {f.label(0), f.label(1), f.label(2), f.label(3)});
        assertEquals(0xa0 / 255f, read(f, 3)[0], EPS, "image 3 is dog/d.png's pixels");
        for (int i = 0; i < f.size(); i++) read(f, i);
        // Scanning a clean result again changes nothing and keeps the list.
        ImageFolder again = f.scan(BadImagePolicy.FAIL, true);
        assertEquals(rels(f), rels(again));
        assertEquals(f.skipped(), again.skipped());
    }

    @Test
    void scanWithSkipOfNothingReadableFails(@TempDir Path root) throws IOException {
        Files.write(root.resolve("a.png"), new byte[] {9, 9, 9});
        Files.write(root.resolve("b.jpg"), new byte[0]);
        IOException e = assertThrows(IOException.class, () -> ImageFolder.open(root, 1, 4, BadImagePolicy.SKIP));
        assertPlainOneLine(e.getMessage(), "no readable images", root.toString(), "a.png");
    }

    private static int index(ImageFolder f, Path p) {
        for (int i = 0; i < f.size(); i++) if (f.path(i).equals(p)) return i;
        throw new AssertionError(p + " not in " + f);
    }

    private static List<String> rels(ImageFolder f) {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < f.size(); i++) out.add(rel(f, i));
        return out;
    }
}
