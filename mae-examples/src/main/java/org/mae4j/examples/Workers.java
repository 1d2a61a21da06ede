package org.mae4j.examples;

import org.mae4j.distributed.Tracker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code --workers N}: runs the same command in N worker JVMs of this machine (same java, JVM options and
 * classpath), joined through a tracker in this JVM, each given 1/N of the cores. Their output is forwarded with
 * a rank prefix. When one fails the others are stopped, and the exit code is the first failure's.
 */
final class Workers {
    private Workers() {}

    /** Set when this JVM is asked to exit: the workers then exit on request, not by failure. */
    private static volatile boolean stopping;

    /**
     * The most workers one machine is given: 4 per core. Each worker is a whole JVM (its heap, its threads, its
     * copy of the model) that gets at least one core; past a few per core they only compete for the cores and
     * the memory, and a count like 1000 is a typo that would start a thousand JVMs before anything fails.
     */
    static int maxWorkers(int cores) { return 4 * cores; }

    static int launch(int n, List<String> args, int timeoutSeconds, PrintStream out) throws IOException, InterruptedException {
        List<String> rest = withoutWorkers(args);
        int cores = Runtime.getRuntime().availableProcessors();
        int each = Math.max(1, cores / n);
        if (cores < n) out.printf("warning: %d workers on %d cores: each gets a whole core anyway, they will compete%n", n, cores);
        try (Tracker tracker = new Tracker("127.0.0.1", 0, n, timeoutSeconds)) {
            out.printf("mae: %d workers, %d core%s each, tracker %s%n", n, each, each == 1 ? "" : "s", tracker.address());
            List<Process> procs = new ArrayList<>();
            List<Thread> pumps = new java.util.concurrent.CopyOnWriteArrayList<>();   // the hook reads it while workers start
            // Ctrl-C reaches the workers too (one process group), a scheduler's SIGTERM maybe only this JVM: pass it on,
            // and keep this JVM (and the forwarding of their output) alive while they save their checkpoint. Registered
            // before the first worker starts: a signal while they are still being started stops those started so far.
            Thread hook = new Thread(() -> {
                List<Process> started;
                synchronized (procs) {
                    stopping = true;   // under the lock: no worker starts after this snapshot
                    started = List.copyOf(procs);
                }
                for (Process p : started) p.toHandle().destroy();   // SIGTERM; Process.destroy would also close their output to us
                try {
                    for (Process p : started) p.waitFor(10, TimeUnit.MINUTES);
                    for (Thread t : pumps) t.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "mae4j-stop-workers");
            Runtime.getRuntime().addShutdownHook(hook);
            for (int r = 0; r < n; r++) {
                ProcessBuilder pb = new ProcessBuilder(javaCommand(each, rest));
                pb.redirectErrorStream(true);
                Map<String, String> env = pb.environment();
                env.put(DistributedOptions.ENV_TRACKER, tracker.address());
                env.put(DistributedOptions.ENV_RANK, Integer.toString(r));
                env.put(DistributedOptions.ENV_WORLD, Integer.toString(n));
                env.put(DistributedOptions.ENV_TRACKER_RUNNING, "1");
                env.put(DistributedOptions.ENV_WATCH_LAUNCHER, "1");   // its stdin is our pipe: EOF means this JVM is gone (watchLauncher)
                // the native thread pools size themselves from these, the JVM from -XX:ActiveProcessorCount
                env.put("OMP_NUM_THREADS", Integer.toString(each));
                env.put("OPENBLAS_NUM_THREADS", Integer.toString(each));
                Process p;
                synchronized (procs) {
                    if (stopping) break;
                    p = pb.start();
                    procs.add(p);
                }
                String prefix = "[rank " + r + "] ";
                Thread pump = new Thread(() -> forward(p, prefix, out), "mae4j-output-rank-" + r);
                pump.start();
                pumps.add(pump);
            }
            int code = await(procs, out);
            for (Thread t : pumps) t.join(5000);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook finds the workers gone
            }
            return code;
        }
    }

    /**
     * In a worker: exits this JVM (through its shutdown hooks, as SIGTERM would: the training stops at the end of
     * its step and saves) when the launcher is gone, however it went (kill -9 included: no signal is passed on
     * then). The launcher holds the write end of this JVM's stdin and never writes: end of file is its death.
     */
    static void watchLauncher(InputStream stdin) {
        Thread t = new Thread(() -> {
            try {
                while (stdin.read() >= 0) { /* nothing is sent: keep waiting for the end */ }
            } catch (IOException e) {
                // a broken pipe is the launcher gone too
            }
            System.err.println("mae: the --workers launcher is gone: stopping this worker");
            System.exit(143);
        }, "mae4j-watch-launcher");
        t.setDaemon(true);
        t.start();
    }

    /** Waits for all; on the first failure stops the rest. Returns 0 or the first failure's exit code (a signal's first). */
    static int await(List<Process> procs, PrintStream out) throws InterruptedException {
        int failed = -1, code = 0;
        boolean lookedAgain = false;
        while (true) {
            boolean running = false;
            int cause = -1;
            for (int r = 0; r < procs.size(); r++) {
                Process p = procs.get(r);
                if (p.isAlive()) { running = true; continue; }
                // of the failures seen in one look, a death by signal (code > 128: killed, out of memory) is the cause
                // and an ordinary error the consequence: a survivor exits 2 when its all-reduce loses the dead rank
                if (p.exitValue() != 0 && (cause < 0 || (p.exitValue() > 128 && procs.get(cause).exitValue() <= 128))) cause = r;
            }
            if (cause >= 0 && failed < 0 && !stopping) {
                if (procs.get(cause).exitValue() <= 128 && !lookedAgain) {
                    // an ordinary error may be a survivor that lost a killed rank whose exit is not reaped yet: one
                    // more look a moment later, so that the death by signal, the cause, is the one reported
                    lookedAgain = true;
                    Thread.sleep(500);
                    continue;
                }
                failed = cause;
                code = procs.get(cause).exitValue();
                out.printf("mae: worker rank %d exited with code %d; stopping the others%n", cause, code);
                for (Process q : procs) if (q.isAlive()) q.toHandle().destroy();
            }
            if (!running) break;
            if (failed >= 0) {
                // they were asked to stop (SIGTERM); a process stuck in native code is killed after a grace period
                for (Process q : procs) if (!q.waitFor(30, TimeUnit.SECONDS)) q.destroyForcibly();
            } else {
                Thread.sleep(200);
            }
        }
        if (failed >= 0) out.printf("mae: the run failed: worker rank %d was the first to fail (exit code %d)%n", failed, code);
        return code;
    }

    private static void forward(Process p, String prefix, PrintStream out) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (out) { out.println(prefix + line); }
            }
        } catch (IOException e) {
            // the stream closes under us when a stopped worker is destroyed: nothing more to forward
        }
    }

    /** This JVM's command line for the Mae main class with args, the processor count replaced by cores. */
    static List<String> javaCommand(int cores, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-XX:ActiveProcessorCount=")) cmd.add(a);
        }
        cmd.add("-XX:ActiveProcessorCount=" + cores);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Mae.class.getName());
        cmd.addAll(args);
        return cmd;
    }

    /** args without --workers N / --workers=N. */
    static List<String> withoutWorkers(List<String> args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--workers")) { i++; continue; }
            if (a.startsWith("--workers=")) continue;
            out.add(a);
        }
        return out;
    }
}
