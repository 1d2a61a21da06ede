package org.mae4j.examples;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A picture written while the JVM shuts down (a SIGTERM at an epoch's end, before its first picture) must be
 * written: ImageIO's default file cache registers a shutdown hook at its first use, which a shutting-down JVM
 * refuses ("Shutdown in progress"). The command line turns the cache off; this child JVM writes its first PNG
 * from inside a shutdown hook, after {@link Mae#commandLine()}, as a run stopped by a signal does.
 */
class PictureDuringShutdownTest {

    /** The child: builds the command line (as ./mae does), then writes its first PNG during shutdown. */
    public static void main(String[] args) {
        Mae.commandLine();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", new ByteArrayOutputStream());
                System.out.println("written");
            } catch (Throwable e) {
                System.out.println("failed: " + e);
            }
        }));
        System.exit(0);
    }

    @Test
    void theFirstPictureOfARunStoppedBySignalIsWritten() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                PictureDuringShutdownTest.class.getName()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("written"), out);
    }
}
