package org.mae4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.io.AtomicFiles;
import org.mae4j.io.RealPaths;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The output folder of one training run: {@code checkpoint.zip} (last), {@code checkpoint-best.zip} (best on
 * validation), {@code metrics.jsonl}. Held with an exclusive lock for the run's life, so a second run into
 * the same folder is refused at once instead of interleaving its metrics and replacing the checkpoint. On
 * opening, temporary files left by a crashed checkpoint write are removed, and on resume the metrics are cut
 * back to the checkpoint's step so that the steps after it, which the resumed run takes again, are not
 * logged twice; the step losses kept from the resumed epoch seed its mean loss, so that a run resumed
 * mid-epoch logs the epoch mean of the uninterrupted run.
 */
public final class RunFolder implements AutoCloseable {
    public static final String CHECKPOINT = "checkpoint.zip", BEST = "checkpoint-best.zip", METRICS = "metrics.jsonl", LOCK = ".lock";
    /**
     * AtomicFiles' temporaries ".<name>.<uuid>.tmp" of the files a run writes: its checkpoints and metrics, and the
     * commands' pictures and summaries (.png, .json); another program's temporary of that shape is not touched.
     */
    private static final Pattern STALE = Pattern.compile("^\\.(checkpoint\\.zip|checkpoint-best\\.zip|metrics\\.jsonl|[^/]+\\.png|[^/]+\\.json)"
            + "\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.tmp$");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Metrics metrics;
    private String bestMetric;
    private double bestValue = Double.NEGATIVE_INFINITY;
    private int bestEpoch = -1;

    private RunFolder(Path dir, FileChannel lockChannel, FileLock lock, Metrics metrics) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.metrics = metrics;
    }

    /** Why a file operation failed, in words: a FileSystemException's message is often the bare path. */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException a) return "permission denied" + (a.getFile() == null ? "" : " on " + a.getFile());
        if (e instanceof java.nio.file.FileAlreadyExistsException a) return a.getFile() + " is a file, in the way of a folder";
        if (e instanceof java.nio.file.FileSystemException f) {
            return (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName()) + (f.getFile() == null ? "" : " on " + f.getFile());
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * Opens {@code dir} for a run: a fresh one (resumeAt null; the folder must not hold a checkpoint) or one
     * resumed at this state.
     *
     * @throws IllegalArgumentException one line naming the folder: it is a file, it is in use by another run,
     *                                  or a fresh run would overwrite a checkpoint
     */
    public static RunFolder open(Path dir, TrainingState resumeAt, Map<String, String> startInfo) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException("output folder " + dir + " is a file, not a folder");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("output folder " + dir + ": cannot create it (" + reason(e) + ")", e);
        }
        FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null;   // held by this JVM
        }
        if (lock == null) {
            ch.close();
            throw inUse(dir);
        }
        try {
            refuseOthersFiles(dir, startInfo.get("command"), resumeAt != null, null, null);
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", started " + Instant.now()).getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
            removeStaleTemporaries(dir);
            Metrics m = new Metrics(dir.resolve(METRICS), resumeAt, startInfo);
            return new RunFolder(dir, ch, lock, m);
        } catch (IOException | RuntimeException e) {
            lock.release();
            ch.close();
            throw e;
        }
    }

    /**
     * Refuses, before any work, an output folder whose files this run would replace but did not make: the files
     * the run writes (checkpoint.zip, checkpoint-best.zip, metrics.jsonl and those alsoWrites matches)
     * are its own when the folder's metrics.jsonl begins with the start row of a mae4j run of this command
     * (a run that has no command in its start row is taken as this command's: older mae4j, library runs), and, on
     * a resume, the resumed checkpoint lies in this folder (its own run continues). A fresh run never replaces a
     * checkpoint.zip ({@code --resume} continues it). {@link #open} checks the same, without the resumed file.
     *
     * @param command     the job's name as metrics.jsonl's start row records it ("pretrain"), or null
     * @param resumedFrom the checkpoint resumed, or null for a fresh run
     * @param alsoWrites  the names of the other files the run writes into the folder (pictures, summaries), or null
     * @throws IllegalArgumentException one line naming the folder and the file that would be replaced
     */
    public static void claim(Path dir, String command, Path resumedFrom, Pattern alsoWrites) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException("output folder " + dir + " is a file, not a folder");
        if (Files.isRegularFile(dir.resolve(LOCK))) {   // a running run's files are its own business: say that first, as open does
            try (FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                FileLock probe;
                try {
                    probe = ch.tryLock();
                } catch (java.nio.channels.OverlappingFileLockException e) {
                    probe = null;
                }
                if (probe == null) throw inUse(dir);
                probe.release();
            }
        }
        refuseOthersFiles(dir, command, resumedFrom != null, resumedFrom, alsoWrites);
    }

    private static final Pattern OWN = Pattern.compile(Pattern.quote(CHECKPOINT) + "|" + Pattern.quote(BEST) + "|" + Pattern.quote(METRICS));

    private static void refuseOthersFiles(Path dir, String command, boolean resumed, Path resumedFrom, Pattern alsoWrites) throws IOException {
        if (!Files.isDirectory(dir)) return;
        List<String> present = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                String n = p.getFileName().toString();
                if (writes(n, alsoWrites)) present.add(n);
            }
        }
        if (present.isEmpty()) return;
        String runOf = command == null ? "a mae4j run" : "a mae4j " + command + " run";
        Path metrics = dir.resolve(METRICS);
        if (Files.exists(metrics) && !startedBy(metrics, command)) {
            throw new IllegalArgumentException("output folder " + dir + ": its " + METRICS + " is not the metrics of " + runOf
                    + " (its first row is not such a start row): choose another --out, or move the file (nothing was overwritten)");
        }
        if (!resumed && Files.exists(dir.resolve(CHECKPOINT))) {
            throw new IllegalArgumentException("output folder " + dir + " already holds a run (" + CHECKPOINT + "): continue it with --resume "
                    + dir.resolve(CHECKPOINT) + ", or choose another --out (nothing was overwritten)");
        }
        if (resumedFrom != null && !RealPaths.sameFile(RealPaths.of(resumedFrom).getParent(), dir)) {
            throw new IllegalArgumentException("output folder " + dir + " holds another run's files (" + String.join(", ", present) + ") that resuming "
                    + resumedFrom + " there would replace: continue in it only with its own checkpoint, or choose another --out (nothing was overwritten)");
        }
        if (!resumed && !Files.exists(metrics)) {
            throw new IllegalArgumentException("output folder " + dir + " holds " + String.join(", ", present) + " that no " + runOf.substring(2)
                    + " left there (it has no " + METRICS + "): choose another --out, or move them (nothing was overwritten)");
        }
    }

    private static IllegalArgumentException inUse(Path dir) throws IOException {
        String holder = Files.readString(dir.resolve(LOCK), StandardCharsets.UTF_8).trim();
        return new IllegalArgumentException("output folder " + dir + " is in use by another run (" + (holder.isEmpty() ? "unknown process" : holder)
                + "): wait for it to end or choose another --out");
    }

    /** Whether dir holds the files of a run of command: its metrics.jsonl begins with such a start row (see {@link #claim}). */
    public static boolean holdsRunOf(Path dir, String command) throws IOException {
        Path metrics = dir.resolve(METRICS);
        return Files.isRegularFile(metrics) && Files.size(metrics) > 0 && startedBy(metrics, command);
    }

    /** Whether a run writes a file of this name into its folder (beside alsoWrites, the command's own files). */
    public static boolean writes(String name, Pattern alsoWrites) {
        return OWN.matcher(name).matches() || (alsoWrites != null && alsoWrites.matcher(name).matches());
    }

    /** Whether metrics begins with a start row of command's (an empty file, cut before its first row, counts too). */
    private static boolean startedBy(Path metrics, String command) throws IOException {
        String first;
        try (java.io.BufferedReader r = Files.newBufferedReader(metrics, StandardCharsets.UTF_8)) {
            first = r.readLine();
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
        if (first == null) return true;
        try {
            JsonNode n = JSON.readTree(first);
            if (n == null || !n.isObject() || !n.path("type").asText().equals("start")) return false;
            return command == null || !n.has("command") || n.path("command").asText().equals(command);
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes the temporary files of checkpoint writes that a crash (kill -9, power loss) interrupted. */
    static int removeStaleTemporaries(Path dir) throws IOException {
        int n = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (STALE.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                    n++;
                }
            }
        }
        if (n > 0) org.slf4j.LoggerFactory.getLogger(RunFolder.class).info("removed {} temporary file(s) of an interrupted checkpoint write in {}", n, dir);
        return n;
    }

    public Path dir() { return dir; }
    public Path checkpoint() { return dir.resolve(CHECKPOINT); }
    public Path best() { return dir.resolve(BEST); }
    public Metrics metrics() { return metrics; }

    /** Whether value (higher is better) beats the best so far of this metric; if so it becomes the best. */
    boolean improves(String metric, double value, int epoch) {
        if (bestMetric != null && !bestMetric.equals(metric)) throw new IllegalStateException("best metric was " + bestMetric + ", now " + metric);
        bestMetric = metric;
        if (!(value > bestValue)) return false;
        bestValue = value;
        bestEpoch = epoch;
        return true;
    }

    /** The best so far, as the checkpoint's provenance carries it across a resume. */
    Map<String, String> bestRecord() {
        if (bestMetric == null || bestEpoch < 0) return Map.of();
        return Map.of("best_metric", bestMetric, "best_value", Double.toString(bestValue), "best_epoch", Integer.toString(bestEpoch + 1));
    }

    /** Restores the best so far from a resumed checkpoint's provenance. */
    public void restoreBest(Map<String, String> provenance) {
        String m = provenance.get("best_metric"), v = provenance.get("best_value"), e = provenance.get("best_epoch");
        if (m == null || v == null || e == null) return;
        try {
            bestMetric = m;
            bestValue = Double.parseDouble(v);
            bestEpoch = Integer.parseInt(e) - 1;
        } catch (NumberFormatException ex) {
            bestMetric = null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            metrics.close();
        } finally {
            if (lock.isValid()) lock.release();
            lockChannel.close();
        }
    }

    /** metrics.jsonl: one JSON object per line: "start", "step" and "epoch_end" rows. */
    public static final class Metrics implements AutoCloseable {
        private final Path file;
        private final BufferedWriter out;
        private final double[] lossesBeforeResume;

        Metrics(Path file, TrainingState resumeAt, Map<String, String> startInfo) throws IOException {
            this.file = file;
            this.lossesBeforeResume = resumeAt != null && Files.exists(file) ? cutBack(file, resumeAt) : new double[0];
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    resumeAt == null ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND);
            ObjectNode n = JSON.createObjectNode();
            n.put("type", "start");
            n.put("time", Instant.now().toString());
            if (resumeAt != null) {
                n.put("resumed_at_step", resumeAt.step());
                n.put("resumed_at_epoch", resumeAt.epoch());
            }
            startInfo.forEach(n::put);
            write(n);
        }

        /**
         * Keeps the rows up to the checkpoint: steps <= its step, epoch ends (and other rows of an epoch) <= its epoch; a torn last line (a
         * kill during a write) goes too. Rewritten atomically. Returns the kept losses of the epoch the checkpoint
         * is in, in step order (one per step).
         */
        static double[] cutBack(Path file, TrainingState at) throws IOException {
            List<String> kept = new ArrayList<>();
            TreeMap<Long, Double> resumedEpoch = new TreeMap<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException e) {
                    continue;
                }
                if (n == null || !n.isObject()) continue;
                String type = n.path("type").asText();
                if (type.equals("step") && n.path("step").asLong() > at.step()) continue;
                // an epoch's rows (epoch_end, pictures) are written before its checkpoint: a later epoch's go
                if (!type.equals("step") && !type.equals("start") && n.path("epoch").isNumber() && n.path("epoch").asInt() > at.epoch()) continue;
                // rows count epochs from 1; at.epoch() is the number of epochs already finished
                if (type.equals("step") && n.path("epoch").asInt() == at.epoch() + 1 && n.path("loss").isNumber()) {
                    resumedEpoch.put(n.path("step").asLong(), n.path("loss").asDouble());
                }
                kept.add(line);
            }
            AtomicFiles.write(file, os -> {
                for (String l : kept) os.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            });
            return resumedEpoch.values().stream().mapToDouble(Double::doubleValue).toArray();
        }

        public Path file() { return file; }

        /**
         * The step losses logged in the resumed epoch up to the checkpoint, in step order (empty for a fresh run);
         * JSON keeps every double exactly, so their running sum is the uninterrupted run's.
         */
        double[] lossesBeforeResume() { return lossesBeforeResume.clone(); }

        void step(Trainer.StepReport r) {
            ObjectNode n = JSON.createObjectNode();
            n.put("type", "step");
            n.put("epoch", r.epoch() + 1);
            n.put("step", r.step());
            n.put("loss", r.loss());
            n.put("lr", r.lr());
            n.put("samples_per_s", Math.round(r.samplesPerSecond() * 10) / 10.0);
            write(n);
        }

        void epochEnd(Trainer.EpochReport r) {
            ObjectNode n = JSON.createObjectNode();
            n.put("type", "epoch_end");
            n.put("epoch", r.epoch() + 1);
            n.put("step", r.state().step());
            n.put("loss", r.meanLoss());
            r.metrics().forEach(n::put);
            if (r.checkpoint() != null) n.put("checkpoint", r.checkpoint().getFileName().toString());
            write(n);
        }

        /** Adds a row of the caller's (e.g. a test-set score at the end, pictures' losses). */
        public void row(String type, Map<String, ?> values) {
            ObjectNode n = JSON.createObjectNode();
            n.put("type", type);
            values.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
            write(n);
        }

        private void write(ObjectNode n) {
            try {
                out.write(JSON.writeValueAsString(n));
                out.newLine();
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("writing " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws IOException { out.close(); }
    }

    /** The values of a metrics row by name (numbers only), for readers of metrics.jsonl. */
    public static Map<String, Double> numbers(String line) {
        Map<String, Double> m = new LinkedHashMap<>();
        try {
            JsonNode n = JSON.readTree(line);
            n.fields().forEachRemaining(e -> { if (e.getValue().isNumber()) m.put(e.getKey(), e.getValue().asDouble()); });
        } catch (IOException e) {
            // a torn line: no numbers
        }
        return m;
    }
}
