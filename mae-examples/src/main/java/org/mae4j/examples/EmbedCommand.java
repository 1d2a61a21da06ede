package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.ImageFolder;
import org.mae4j.embed.Embedder;
import org.mae4j.io.AtomicFiles;
import org.mae4j.io.Npy;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ./mae embed}: one vector per image from any weights mae4j reads, written as a float32 {@code .npy}
 * [N, D] that numpy loads, with a {@code .txt} beside it naming the image of each row.
 */
@Command(name = "embed", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Embed images with a pretrained or fine-tuned encoder: vectors [N, D] as .npy, file names as .txt.")
public final class EmbedCommand implements Callable<Integer> {

    @Option(names = "--weights", required = true,
            description = "A mae4j checkpoint (.zip), a .safetensors file (official or HuggingFace names; config.json beside it is read), "
                    + "a HuggingFace model folder (config.json, model.safetensors, preprocessor_config.json), or a folder of <key>.npy files.")
    Path weights;
    @Option(names = "--images", required = true, arity = "1..*",
            description = "Image files, or folders of .png/.jpg/.jpeg (all images under them, sorted as ImageFolder does), in this order.")
    List<Path> images;
    @Option(names = "--out", required = true, description = "The .npy to write ([N, D] float32); the file names go to the same name with .txt.")
    Path out;
    @Option(names = "--pooling", description = "CLS (cls token after the final norm) or MEAN (mean of the patch tokens; fc_norm of it for a "
            + "global-pool classifier). Default: CLS, or MEAN for weights without the final norm.")
    Embedder.Pooling pooling;
    @Option(names = "--batch", defaultValue = "64", description = "Images per forward pass.")
    int batch;
    @Option(names = "--image-size", description = "Embed at this size instead of the weights' (a multiple of the patch size); "
            + "position tables are regenerated or resampled.")
    Integer imageSize;
    @Option(names = "--preset", description = "Model config for weights that carry none (.npy folders, bare .safetensors): ${COMPLETION-CANDIDATES}.",
            completionCandidates = PretrainCommand.Presets.class)
    String preset;
    @Option(names = "--mean", split = ",", description = "Normalization mean per channel, for weights that record none.")
    float[] mean;
    @Option(names = "--std", split = ",", description = "Normalization std per channel, for weights that record none.")
    float[] std;
    @Option(names = "--force", description = "Replace an existing --out and the .txt beside it.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        return run(System.out, System.console() != null);
    }

    int run(PrintStream log, boolean terminal) throws IOException {
        String name = out.getFileName().toString();
        if (!name.endsWith(".npy") || name.length() == 4) throw new IllegalArgumentException("--out must name a .npy file, got " + out);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if ((mean == null) != (std == null)) throw new IllegalArgumentException("--mean and --std go together");
        Path names = out.resolveSibling(name.substring(0, name.length() - 4) + ".txt");
        Outputs outputs = Outputs.of(force).input("--weights", weights).inputs("--images", images);
        outputs.file("--out", out);
        outputs.file("--out's .txt", names);
        List<Path> files = expand(images);

        Embedder e = Embedder.load(weights, preset == null ? null : MaeConfig.preset(preset), mean == null ? null : new Normalization(mean, std));
        e = e.withBatchSize(batch);   // first: the image size is checked against the memory of this batch
        if (imageSize != null) e = e.withImageSize(imageSize);
        if (pooling != null) e = e.withPooling(pooling);
        log.printf(Locale.ROOT, "%s: %d images, %s%n", weights, files.size(), e);

        float[][] vectors = new float[files.size()][];
        long start = System.nanoTime();
        Bar bar = new Bar(log, terminal, files.size());
        for (int from = 0; from < files.size(); from += batch) {
            int to = Math.min(files.size(), from + batch);
            float[][] v = e.embedFiles(files.subList(from, to));
            System.arraycopy(v, 0, vectors, from, v.length);
            bar.update(to, (System.nanoTime() - start) / 1e9);
        }
        if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
        byte[] npy = Npy.toBytes(Nd4j.createFromArray(vectors));
        AtomicFiles.write(out, os -> os.write(npy));
        StringBuilder sb = new StringBuilder();
        for (Path f : files) sb.append(f).append('\n');
        byte[] txt = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(names, os -> os.write(txt));
        double seconds = (System.nanoTime() - start) / 1e9;
        log.printf(Locale.ROOT, "wrote %s [%d, %d] float32 and %s in %s (%.1f images/s)%n", out, files.size(), e.dimension(), names,
                Progress.clock(seconds), files.size() / Math.max(seconds, 1e-9));
        return 0;
    }

    /** Files as given; folders replaced by their images in ImageFolder's order. */
    static List<Path> expand(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                ImageFolder f = ImageFolder.open(p, 1, 1);   // only its file list is used
                for (int i = 0; i < f.size(); i++) files.add(f.path(i));
            } else {
                ImageFolder.requireFile(p);
                files.add(p);
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no images given");
        return files;
    }

    /** Images done, rate and ETA: one redrawn line on a terminal, ten lines in a log. */
    private static final class Bar {
        private static final int WIDTH = 24;
        private final PrintStream out;
        private final boolean terminal;
        private final int total;
        private int lastTenth = -1;

        Bar(PrintStream out, boolean terminal, int total) {
            this.out = out;
            this.terminal = terminal;
            this.total = total;
        }

        void update(int done, double seconds) {
            int filled = (int) ((long) WIDTH * done / total);
            String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
            double rate = done / Math.max(seconds, 1e-9);
            String line = String.format(Locale.ROOT, "[%s] %d/%d images %.1f img/s ETA %s", bar, done, total, rate, Progress.clock((total - done) / rate));
            int tenth = (int) (10L * done / total);
            if (terminal) {
                out.print("\r" + line);
                if (done == total) out.println();
            } else if (tenth != lastTenth) {
                out.println(line);
                lastTenth = tenth;
            }
            out.flush();
        }
    }
}
