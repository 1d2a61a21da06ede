package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import org.mae4j.train.RunFolder;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ./mae pretrain --workers 2 as a user runs it (a launcher JVM and two worker JVMs over the XGBoost collective),
 * a worker killed mid-run, the launcher's choice of the failure it reports, and the distributed options' errors.
 */
class WorkersTest {

    private static Process launcher(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "org.mae4j.examples.Mae"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "passive");
        pb.environment().put("OPENBLAS_THREAD_TIMEOUT", "4");
        return pb.start();
    }

    private static long steps(Path out) throws Exception {
        if (!Files.exists(out.resolve(RunFolder.METRICS))) return 0;
        return Files.readAllLines(out.resolve(RunFolder.METRICS), StandardCharsets.UTF_8).stream().filter(l -> l.contains("\"type\":\"step\"")).count();
    }

    @Test
    void twoWorkersTrainAndOnlyRankZeroWrites(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), log = tmp.resolve("launcher.log");
        Process p = launcher(log, "pretrain", "--workers", "2", "--limit", "64", "--batch", "8", "--epochs", "1", "--max-steps", "2",
                "--viz-images", "0", "--out", out.toString());
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "the run did not finish");
        String text = Files.readString(log);
        assertEquals(0, p.exitValue(), text);
        assertTrue(text.contains("mae: 2 workers"), text);
        for (int r = 0; r < 2; r++) assertTrue(text.contains("[rank " + r + "] ") && text.contains("rank " + r + " of 2: runs agree"), text);
        assertEquals(2, Checkpoint.load(out.resolve(RunFolder.CHECKPOINT)).state().step());
        assertEquals(2, steps(out), "rank 0 alone logs each step");
    }

    @Test
    void fineTuningRunsOnTwoWorkersToTheTestScore(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ft"), log = tmp.resolve("launcher.log");
        // 2 epochs of 3 steps (54 training images of 60, batch 16): the best-epoch selection and the test score run on rank 0
        Process p = launcher(log, "finetune", "--workers", "2", "--random-init", "--preset", "tinyFmnist6", "--limit", "60", "--batch", "16",
                "--epochs", "2", "--warmup-epochs", "0.5", "--out", out.toString());
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "the run did not finish");
        String text = Files.readString(log);
        assertEquals(0, p.exitValue(), text);
        for (int r = 0; r < 2; r++) assertTrue(text.contains("rank " + r + " of 2: runs agree"), text);
        assertEquals(2, Checkpoint.load(out.resolve(RunFolder.CHECKPOINT)).state().epoch());
        assertEquals(6, steps(out), "rank 0 alone logs each step");
        assertTrue(Files.exists(out.resolve("finetune.json")) && Files.readString(out.resolve("finetune.json")).contains("test_top1"), text);
        assertEquals(1, text.split("test set \\(60 images\\)", -1).length - 1, "only rank 0 scores the test set:\n" + text);
    }

    @Test
    void aKilledWorkerStopsTheRunWithItsExitCode(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), log = tmp.resolve("launcher.log");
        Process p = launcher(log, "pretrain", "--workers", "2", "--limit", "2000", "--batch", "8", "--epochs", "1",
                "--viz-images", "0", "--out", out.toString());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (steps(out) < 1 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(p.isAlive() && steps(out) >= 1, "the run did not get going:\n" + Files.readString(log));
        List<ProcessHandle> workers = p.toHandle().children().toList();
        assertEquals(2, workers.size(), "two worker JVMs");
        long t0 = System.nanoTime();
        workers.get(1).destroyForcibly();   // SIGKILL: no goodbye
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher was still running 60 s after a worker was killed");
        double seconds = (System.nanoTime() - t0) / 1e9;
        String text = Files.readString(log);
        assertEquals(137, p.exitValue(), text);
        assertTrue(text.matches("(?s).*worker rank [01] exited with code 137; stopping the others.*"), text);
        assertTrue(workers.stream().noneMatch(ProcessHandle::isAlive), "every worker is gone");
        System.out.printf("launcher exited %.1f s after the kill%n", seconds);
    }

    /** Every process under p seen until p exits (orphans leave p's tree when it dies, so they are collected while it lives). */
    private static java.util.Set<ProcessHandle> workersUntilExit(Process p, long minutes) throws Exception {
        java.util.Set<ProcessHandle> seen = new java.util.HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        while (p.isAlive() && System.nanoTime() < deadline) {
            p.toHandle().descendants().forEach(seen::add);
            Thread.sleep(20);
        }
        return seen;
    }

    private static void assertAllGoneWithin(java.util.Set<ProcessHandle> workers, int seconds, String log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (workers.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) Thread.sleep(100);
        List<ProcessHandle> alive = workers.stream().filter(ProcessHandle::isAlive).toList();
        alive.forEach(ProcessHandle::destroyForcibly);   // leave nothing behind for the next test
        assertTrue(alive.isEmpty(), alive.size() + " of " + workers.size() + " workers still running " + seconds + " s after their launcher died:\n" + log);
    }

    @Test
    void workersDieWithALauncherKilledBySigkill(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), log = tmp.resolve("launcher.log");
        Process p = launcher(log, "pretrain", "--workers", "2", "--limit", "2000", "--batch", "8", "--epochs", "1",
                "--viz-images", "0", "--out", out.toString());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (steps(out) < 1 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(p.isAlive() && steps(out) >= 1, "the run did not get going:\n" + Files.readString(log));
        java.util.Set<ProcessHandle> workers = new java.util.HashSet<>(p.toHandle().children().toList());
        assertEquals(2, workers.size(), "two worker JVMs");
        p.toHandle().destroyForcibly();   // kill -9 of the launcher: no hook runs, no signal reaches the workers
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertAllGoneWithin(workers, 30, Files.readString(log));
    }

    @Test
    void aSigtermRightAfterTheStartLeavesNoWorkerRunning(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run"), log = tmp.resolve("launcher.log");
        Process p = launcher(log, "pretrain", "--workers", "3", "--limit", "2000", "--batch", "6", "--epochs", "1",
                "--viz-images", "0", "--out", out.toString());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (p.isAlive() && p.toHandle().children().count() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        p.toHandle().destroy();   // SIGTERM while the workers are being started (or just after)
        java.util.Set<ProcessHandle> workers = workersUntilExit(p, 3);
        assertFalse(p.isAlive(), "the launcher did not exit");
        assertFalse(workers.isEmpty(), "no worker was started:\n" + Files.readString(log));
        assertAllGoneWithin(workers, 30, Files.readString(log));
    }

    @Test
    void anAbsurdWorkerCountIsRefused() {
        DistributedOptions d = new DistributedOptions();
        d.timeoutSeconds = 300;
        d.workers = 1000;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, d::validate);
        assertTrue(e.getMessage().startsWith("--workers 1000 is more than this machine can run: at most "), e.getMessage());
        d.workers = Workers.maxWorkers(Runtime.getRuntime().availableProcessors());
        d.validate();   // the most allowed
    }

    /** A process that is alive until exitAfterMillis from its creation, then exited with code. */
    private static final class Scripted extends Process {
        private final long exitAt;
        private final int code;
        Scripted(long exitAfterMillis, int code) { this.exitAt = System.nanoTime() + exitAfterMillis * 1_000_000; this.code = code; }
        @Override public boolean isAlive() { return System.nanoTime() < exitAt; }
        @Override public int exitValue() { if (isAlive()) throw new IllegalThreadStateException("alive"); return code; }
        @Override public int waitFor() throws InterruptedException {
            while (isAlive()) Thread.sleep(10);
            return code;
        }
        @Override public void destroy() { throw new UnsupportedOperationException("not used by await"); }
        // await stops the workers still running once it has chosen the cause: in these scripts none is left by then
        @Override public ProcessHandle toHandle() { throw new AssertionError("await chose its cause while a worker (exit code " + code + ") was still running"); }
        @Override public OutputStream getOutputStream() { return OutputStream.nullOutputStream(); }
        @Override public InputStream getInputStream() { return InputStream.nullInputStream(); }
        @Override public InputStream getErrorStream() { return InputStream.nullInputStream(); }
    }

    private static int await(String what, Process... procs) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int code = Workers.await(List.of(procs), new PrintStream(text, true, StandardCharsets.UTF_8));
        System.out.printf("%s: %d%n%s", what, code, text.toString(StandardCharsets.UTF_8));
        return code;
    }

    @Test
    void theKilledRankIsReportedEvenWhenItsSurvivorIsSeenExitingFirst() throws Exception {
        // rank 0 lost its all-reduce and exited 2 before the launcher saw rank 1, the killed one, gone (reaped 150 ms later)
        assertEquals(137, await("survivor first", new Scripted(0, 2), new Scripted(150, 137)));
        // both already gone in one look: the signal wins whatever the rank order
        assertEquals(137, await("one look", new Scripted(0, 137), new Scripted(0, 2)));
        // an ordinary error with no signal death behind it keeps its own code; a clean run exits 0
        assertEquals(3, await("ordinary error", new Scripted(0, 0), new Scripted(0, 3)));
        assertEquals(0, await("clean", new Scripted(0, 0), new Scripted(50, 0)));
    }

    private record Run(int exit, String err) {}

    private static Run mae(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), err.toString());
    }

    @Test
    void inconsistentDistributedOptionsAreRefused() {
        Run r = mae("pretrain", "--workers", "2", "--rank", "0");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--workers launches its own processes: it cannot be combined with --tracker, --rank or --world-size"), r.err());
        r = mae("pretrain", "--rank", "1");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("a multi-machine run needs all of --tracker, --rank and --world-size"), r.err());
        r = mae("pretrain", "--tracker", "node1", "--rank", "0", "--world-size", "2");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("tracker address must be host:port, got 'node1'"), r.err());
        r = mae("pretrain", "--tracker", "node1:29500", "--rank", "2", "--world-size", "2");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--rank must be in 0..1, got 2"), r.err());
        r = mae("pretrain", "--workers", "2", "--knn-every", "1");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--knn-every is not available in data-parallel training"), r.err());
    }

    @Test
    void workersAreGivenTheCommandWithoutWorkers() {
        assertEquals(List.of("pretrain", "--batch", "8", "--out", "x"), Workers.withoutWorkers(List.of("pretrain", "--workers", "2", "--batch", "8", "--out", "x")));
        assertEquals(List.of("pretrain", "--out", "x"), Workers.withoutWorkers(List.of("pretrain", "--workers=4", "--out", "x")));
    }
}
