package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.mae4j.io.RealPaths;
import org.mae4j.train.RunFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a command may write: decided here, for every command (issue 32). A command names its inputs and claims
 * its outputs first thing in {@code call()}, before it loads anything, so a refusal comes at once with nothing
 * touched. An output is refused, in one line naming both paths,
 * <ul>
 *   <li>when it is one of the command's inputs or another of its outputs, or lies inside an input folder (paths
 *       compared where they really point: symlinks, "..", relative spellings; hard links by the file system);</li>
 *   <li>when it exists and the command did not make it, unless {@code --force}. A command knows a file is its own
 *       only in a folder that says so: a run folder whose metrics.jsonl starts with this command's start row
 *       ({@link RunFolder#claim}: the training commands' own files, and {@code finetune --eval}'s there), and a
 *       {@code results} folder holding the results.json that results writes. A standalone file (--out, --json)
 *       says nothing of who wrote it, so replacing it takes --force.</li>
 * </ul>
 * The files themselves are written through {@link org.mae4j.io.AtomicFiles} (temporary file, fsync, rename).
 */
final class Outputs {
    private record Named(String flag, Path path) {}

    private final boolean force;
    private final List<Named> inputs = new ArrayList<>(), outputs = new ArrayList<>();

    private Outputs(boolean force) { this.force = force; }

    /** The claims of one command run; force: --force was given (replace existing files the command did not make). */
    static Outputs of(boolean force) { return new Outputs(force); }

    /** An input file or folder (null: not given). */
    Outputs input(String flag, Path p) {
        if (p != null) inputs.add(new Named(flag, p));
        return this;
    }

    Outputs inputs(String flag, List<Path> ps) {
        if (ps != null) for (Path p : ps) input(flag, p);
        return this;
    }

    /** A --data / --test-data spec: a folder unless it names the embedded Fashion-MNIST. */
    Outputs data(String flag, String spec) {
        if (spec != null && !spec.equals(Datasets.FASHION_MNIST) && !spec.equals(Datasets.FASHION_MNIST_TEST)) input(flag, Path.of(spec));
        return this;
    }

    /** Claims a standalone output file: replaced only with --force. Returns it. */
    Path file(String flag, Path out) throws IOException {
        return claimFile(flag, out, false);
    }

    /** Claims a file the command writes into a run folder of its own (e.g. finetune --eval's): replaced there without --force. */
    Path fileOfRun(String flag, Path out, String command) throws IOException {
        Path dir = RealPaths.of(out).getParent();
        return claimFile(flag, out, dir != null && RunFolder.holdsRunOf(dir, command));
    }

    /** Claims a file of ./mae results' folder: replaced without --force where the folder holds a results.json of results'. */
    Path fileOfResults(String flag, Path out, Path folder) throws IOException {
        return claimFile(flag, out, isResultsFolder(folder));
    }

    /**
     * Claims a training run's folder: it must not be an input or lie in an input folder, must not hold an input the
     * run would replace, and its files must be this command's own run's ({@link RunFolder#claim}).
     */
    void runFolder(String flag, Path dir, String command, Path resume, Pattern alsoWrites) throws IOException {
        for (Named in : inputs) {
            if (RealPaths.sameFile(dir, in.path())) throw new IllegalArgumentException(flag + " " + dir + " is the input " + in.flag() + " " + in.path()
                    + ": choose another " + flag + " (nothing was written)");
            if (RealPaths.inside(dir, in.path())) throw insideInput(flag, dir, in);
            Path real = RealPaths.of(in.path());
            boolean resumed = resume != null && RealPaths.sameFile(in.path(), resume);
            if (!resumed && real.getParent() != null && real.getParent().equals(RealPaths.of(dir))
                    && RunFolder.writes(real.getFileName().toString(), alsoWrites)) {
                throw new IllegalArgumentException(flag + " " + dir + " would replace the input " + in.flag() + " " + in.path()
                        + " (the run writes " + real.getFileName() + " there): choose another " + flag + " (nothing was written)");
            }
        }
        RunFolder.claim(dir, command, resume, alsoWrites);
        outputs.add(new Named(flag, dir));
    }

    private Path claimFile(String flag, Path out, boolean own) throws IOException {
        for (Named in : inputs) {
            if (RealPaths.sameFile(out, in.path())) {
                throw new IllegalArgumentException(flag + " " + out + " is the input " + in.flag() + " " + in.path()
                        + (!out.equals(in.path()) ? " (the same file)" : "")
                        + ": choose another " + flag + " (nothing was written)");
            }
            if (RealPaths.inside(out, in.path())) throw insideInput(flag, out, in);
        }
        for (Named o : outputs) {
            if (RealPaths.sameFile(out, o.path())) throw new IllegalArgumentException(flag + " " + out + " is also " + o.flag() + " " + o.path()
                    + ": give them different files (nothing was written)");
        }
        if (Files.isDirectory(out)) throw new IllegalArgumentException(flag + " " + out + " is a folder: name the file to write (nothing was written)");
        if (RealPaths.exists(out) && !force && !own) throw new IllegalArgumentException(flag + " " + out + " exists: pass --force to replace it (nothing was written)");
        outputs.add(new Named(flag, out));
        return out;
    }

    private static IllegalArgumentException insideInput(String flag, Path out, Named in) {
        return new IllegalArgumentException(flag + " " + out + " lies inside the input folder " + in.flag() + " " + in.path()
                + ": choose a place outside it (nothing was written)");
    }

    private static boolean isResultsFolder(Path folder) {
        Path f = folder.resolve("results.json");
        if (!Files.isRegularFile(f)) return false;
        try {
            JsonNode n = new ObjectMapper().readTree(f.toFile());
            return n != null && n.isObject() && n.path("rows").isArray() && n.has("dataset");
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether this process writes the outputs: not a data-parallel rank other than 0 (those only train). */
    static boolean writer(DistributedOptions dist) {
        if (!dist.isRank()) return true;
        org.mae4j.train.Collective given = DistributedOptions.GIVEN.get();
        return given != null ? given.rank() == 0 : dist.rank() == null || dist.rank() == 0;
    }
}
