package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import org.mae4j.train.RunFolder;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ./mae pretrain in child JVMs, as a user runs it: two fresh runs with one seed give identical weights; a run
 * stopped by SIGTERM writes a checkpoint and says how to resume, and the resumed run ends bit-identical to the
 * uninterrupted one, with every step logged once; a second run into a busy folder is refused at once.
 */
class ChildJvmTrainingTest {
    private static final String[] RUN = {"pretrain", "--limit", "128", "--batch", "16", "--epochs", "50", "--warmup-epochs", "1", "--viz-images", "0"};

    private static Process start(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx2g", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "org.mae4j.examples.Mae"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "passive");
        pb.environment().put("OPENBLAS_THREAD_TIMEOUT", "4");
        pb.environment().put("MAE4J_GEMM", "java");   // one kernel path for every child: the two round differently
        return pb.start();
    }

    private static String run(Path dir, String name, String... args) throws Exception {
        Path log = dir.resolve(name + ".log");
        Process p = start(log, args);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), name + " did not finish");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), name + ":\n" + out);
        return out;
    }

    private static String[] with(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static float[] params(Path out) throws Exception {
        return Checkpoint.load(out.resolve(RunFolder.CHECKPOINT)).params().flatParams().toFloatVector();
    }

    private static long steps(Path out) throws Exception {
        if (!Files.exists(out.resolve(RunFolder.METRICS))) return 0;
        return Files.readAllLines(out.resolve(RunFolder.METRICS), StandardCharsets.UTF_8).stream().filter(l -> l.contains("\"type\":\"step\"")).count();
    }

    @Test
    void freshRunsAgreeAndASigtermedRunResumesBitIdentically(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c = tmp.resolve("c");
        Path log = tmp.resolve("c1.log");
        Process p = start(log, with(RUN, "--out", c.toString()));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (steps(c) < 3 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(p.isAlive(), "the run ended before it could be stopped:\n" + Files.readString(log));

        // a second run into the busy folder is refused at once, naming the running one
        Path busyLog = tmp.resolve("busy.log");
        Process busy = start(busyLog, with(RUN, "--out", c.toString()));
        assertTrue(busy.waitFor(2, TimeUnit.MINUTES));
        String busyOut = Files.readString(busyLog);
        assertEquals(2, busy.exitValue(), busyOut);
        assertTrue(busyOut.contains("is in use by another run") && busyOut.contains("pid " + p.pid()), busyOut);

        p.destroy();   // SIGTERM
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the stopped run did not exit");
        String out = Files.readString(log);
        assertTrue(out.contains("stopped by a signal") && out.contains("--resume"), out);
        long stoppedAt = Checkpoint.load(c.resolve(RunFolder.CHECKPOINT)).state().step();
        assertTrue(stoppedAt >= 3, "stopped at step " + stoppedAt + "\n" + out);

        String end = Long.toString(stoppedAt + 3);
        run(tmp, "c2", with(RUN, "--max-steps", end, "--out", c.toString(), "--resume", c.resolve(RunFolder.CHECKPOINT).toString()));
        run(tmp, "a", with(RUN, "--max-steps", end, "--out", a.toString()));
        run(tmp, "b", with(RUN, "--max-steps", end, "--out", b.toString()));
        assertArrayEquals(params(a), params(b), "two fresh runs with one seed");
        assertArrayEquals(params(a), params(c), "stopped at step " + stoppedAt + " by SIGTERM and resumed in a new JVM");
        assertEquals(stoppedAt + 3, steps(c), "each step logged once");
    }
}
