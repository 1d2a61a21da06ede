package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Mutations;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated PNG and JPEG files must decode or fail with an UncheckedIOException whose one-line message names the
 * file and says what failed without Java class names; never a decoder's own exception, never an attempt to
 * allocate what a corrupt header claims, never a hang. Files are written per case, so a few hundred each.
 */
class ImageFolderFuzzTest {
    private static final Pattern JAVA_NAME = Pattern.compile("\\b(java|javax|sun|com|org)\\.[a-z]+\\.");

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, o), format);
        return o.toByteArray();
    }

    private static BufferedImage noise(int type, long seed) {
        BufferedImage img = new BufferedImage(12, 9, type);
        Random r = new Random(seed);
        for (int y = 0; y < 9; y++) for (int x = 0; x < 12; x++) img.setRGB(x, y, r.nextInt());
        return img;
    }

    private static Mutations.Reader decoder(Path file) {
        return Mutations.viaFile(file.getParent(), file.getFileName().toString(), f -> {
            ImageFolder d = ImageFolder.ofFiles(List.of(f), 3, 8);
            try {
                d.image(0, new float[d.imageLength()], 0);
            } catch (UncheckedIOException e) {
                if (JAVA_NAME.matcher(e.getMessage()).find()) throw new AssertionError("Java class name in: " + e.getMessage());
                throw e;
            }
        });
    }

    @Test
    void mutatedPngAndJpeg(@TempDir Path dir) throws IOException {
        Object[][] cases = {{"rgb.png", encode(noise(BufferedImage.TYPE_INT_RGB, 1), "png")},
                {"grey.png", encode(noise(BufferedImage.TYPE_BYTE_GRAY, 2), "png")},
                {"rgb.jpg", encode(noise(BufferedImage.TYPE_INT_RGB, 3), "jpg")}};
        int seed = 70;
        for (Object[] c : cases) {
            Path file = dir.resolve((String) c[0]);
            Mutations.Summary s = Mutations.fuzz((byte[]) c[1], seed++, 300, Duration.ofSeconds(90), decoder(file),
                    file.toString(), UncheckedIOException.class);
            assertTrue(s.rejected() > 0, c[0] + ": " + s);
        }
    }

    /** A PNG whose header claims 2^30 x 2^30 pixels is refused from the header, not decoded. */
    @Test
    void hugeDimensionsInTheHeaderAreRefused(@TempDir Path dir) throws IOException {
        byte[] png = encode(noise(BufferedImage.TYPE_INT_RGB, 4), "png");
        ByteBuffer.wrap(png).putInt(16, 1 << 30).putInt(20, 1 << 30);   // IHDR width and height, big-endian
        Path f = dir.resolve("huge.png");
        Files.write(f, png);
        ImageFolder d = ImageFolder.ofFiles(List.of(f), 3, 8);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> d.image(0, new float[d.imageLength()], 0));
        assertTrue(e.getMessage().contains("huge.png") && e.getMessage().contains("too large"), e.getMessage());
        IOException scan = assertThrows(IOException.class, () -> d.scan(BadImagePolicy.FAIL, false));
        assertTrue(scan.getMessage().contains("huge.png") && scan.getMessage().contains("too large"), scan.getMessage());
    }
}
