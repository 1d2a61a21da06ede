package org.mae4j.distributed;

import ml.dmlc.xgboost4j.java.Communicator;
import ml.dmlc.xgboost4j.java.XGBoostJNI;
import org.mae4j.train.Collective;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link Collective} on XGBoost4J's communicator (a native ring all-reduce, joined through a {@link Tracker}).
 *
 * <p>Two properties of XGBoost4J shape this class. Its communicator is thread-local: init, every all-reduce and
 * shutdown must run on one thread, so each instance owns a single communication thread and the caller's
 * thread only hands it work (which also lets a test run several ranks as threads of one JVM). And its public
 * {@code allReduce} ignores the native return code, handing back the local data unreduced on failure: every
 * buffer therefore carries one extra element 1.0f, whose sum must come back as the world size.
 *
 * <p>Every call waits at most {@code timeout} for the others (a lost process closes its sockets and XGBoost
 * fails sooner; the timeout catches a process that hangs without dying). After a failure the instance is
 * broken: every further call throws at once.
 */
public final class XgbCollective implements Collective {
    private final ExecutorService thread;
    private final int rank, world;
    private final Duration timeout;
    private final String tracker;
    private final int chunk;
    private float[] work = new float[0];
    private volatile String broken;
    private boolean closed;

    private XgbCollective(ExecutorService thread, int rank, int world, Duration timeout, String tracker, int chunk) {
        this.thread = thread;
        this.chunk = chunk;
        this.rank = rank;
        this.world = world;
        this.timeout = timeout;
        this.tracker = tracker;
    }

    /**
     * Joins the run of {@code world} processes as {@code rank}, through the tracker at host:port. Returns once
     * all processes have joined.
     *
     * @throws IllegalArgumentException for a rank outside 0 .. world - 1
     * @throws IllegalStateException    if the tracker cannot be reached or the others do not join within timeout (a
     *                                  tracker not listening yet is tried again until then)
     */
    public static XgbCollective connect(String host, int port, int rank, int world, Duration timeout) {
        return connect(host, port, rank, world, timeout, CHUNK);
    }

    /** Values per all-reduce call: 16 MB. */
    static final int CHUNK = 1 << 22;

    /** As {@link #connect(String, int, int, int, Duration)} reducing at most chunk values per XGBoost call (tests). */
    static XgbCollective connect(String host, int port, int rank, int world, Duration timeout, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        if (world < 1) throw new IllegalArgumentException("world size must be >= 1, got " + world);
        if (rank < 0 || rank >= world) throw new IllegalArgumentException("rank must be in 0.." + (world - 1) + ", got " + rank);
        if (port < 1 || port > 65535) throw new IllegalArgumentException("tracker port must be in 1..65535, got " + port);
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("collective timeout must be positive, got " + timeout);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mae4j-collective-rank-" + rank);
            t.setDaemon(true);   // a thread stuck in native code must not keep a failed JVM alive
            return t;
        });
        XgbCollective c = new XgbCollective(thread, rank, world, timeout, host + ":" + port, chunk);
        long seconds = Math.max(1, timeout.toSeconds());
        // dmlc_retry x dmlc_timeout bounds how long XGBoost itself tries to reach the tracker and the peers
        String json = String.format(Locale.ROOT, "{\"dmlc_communicator\":\"rabit\",\"dmlc_tracker_uri\":\"%s\",\"dmlc_tracker_port\":%d,"
                + "\"dmlc_task_id\":\"%d\",\"dmlc_timeout\":%d,\"dmlc_retry\":2}", host.replace("\"", ""), port, rank, seconds);
        try {
            c.call("join the run through the tracker at " + host + ":" + port, () -> {
                // The processes of a multi-machine run start in any order: until the timeout, a tracker that is not
                // listening yet is tried again.
                long deadline = System.nanoTime() + timeout.toNanos();
                while (XGBoostJNI.CommunicatorInit(json) != 0) {
                    String error = nativeError();
                    if (!error.contains("connect to the tracker") || System.nanoTime() > deadline) {
                        throw new IllegalStateException("rank " + rank + ": cannot join the run through the tracker at " + host + ":" + port
                                + " (is it running, for " + world + " workers, and reachable from this machine?)" + error);
                    }
                    Thread.sleep(1000);
                }
                int[] out = new int[1];
                Tracker.check(XGBoostJNI.CommunicatorGetRank(out), "read the rank");
                int r = out[0];
                Tracker.check(XGBoostJNI.CommunicatorGetWorldSize(out), "read the world size");
                if (r != rank || out[0] != world) {
                    throw new IllegalStateException("the tracker at " + host + ":" + port + " made this process rank " + r + " of " + out[0]
                            + ", asked for rank " + rank + " of " + world + ": is the tracker started for " + world + " workers?");
                }
                return null;
            }, timeout.plusSeconds(30));   // past the retry deadline: the tracker's own error is the clearer one
        } catch (RuntimeException e) {
            thread.shutdownNow();
            throw e;
        }
        return c;
    }

    @Override public int rank() { return rank; }

    @Override public int worldSize() { return world; }

    @Override
    public void allReduceSum(float[] buf, int n) {
        if (n < 0 || n > buf.length) throw new IllegalArgumentException("reduce length " + n + " outside the buffer of " + buf.length);
        if (world == 1) return;
        call("sum " + n + " values", () -> {
            // in pieces: XGBoost4J copies each array into a new direct buffer and back into a new array, which for a
            // whole ViT-B gradient would be two more transient copies of 350 MB per step
            for (int from = 0; from < n || from == 0; from += chunk) {
                int len = Math.min(chunk, n - from);
                if (work.length != len + 1) work = new float[len + 1];
                System.arraycopy(buf, from, work, 0, len);
                work[len] = 1f;
                float[] sum = Communicator.allReduce(work, Communicator.OpType.SUM);
                String problem = checkSentinel(sum, len, world);
                if (problem != null) {
                    String xgb = nativeError();
                    // XGBoost's own poll timeout is ours (the same seconds): whichever of the two fires first, a peer
                    // that stopped answering is reported as one, not as a lost connection (it raced under load)
                    if (xgb.toLowerCase(java.util.Locale.ROOT).contains("timeout")) {
                        throw new IllegalStateException("rank " + rank + " of " + world + ": could not sum " + n + " values: no answer from the other processes within "
                                + timeout.toSeconds() + " s (tracker " + tracker + "): a process was lost, hangs, or never started" + xgb);
                    }
                    // in a ring of two the only peer is the lost one; beyond two XGBoost does not say which
                    String lost = world == 2 ? " (lost: rank " + (1 - rank) + ")" : "";
                    throw new IllegalStateException("rank " + rank + ": " + problem + lost + xgb);
                }
                System.arraycopy(sum, 0, buf, from, len);
                if (len == 0) break;
            }
            return null;
        });
    }

    /**
     * Checks the sentinel element {@code reduced[n]} (1.0f from each process) of a reduction: null when it sums
     * to the world size, else what went wrong. Public for its unit test; a sum is exact for any world below 2^24.
     */
    static String checkSentinel(float[] reduced, int n, int world) {
        if (reduced == null || reduced.length != n + 1) return "the all-reduce returned " + (reduced == null ? "nothing" : reduced.length + " values for " + (n + 1));
        float s = reduced[n];
        if (s == world) return null;
        if (s == 1f) return "the all-reduce returned this process's own data unreduced: a process of the " + world + " was lost or the connection failed";
        return "the all-reduce's check element summed to " + s + ", expected the world size " + world + ": the reduction is corrupt";
    }

    /** XGBoost's last error without its native stack trace, or "". */
    static String nativeError() {
        String e = XGBoostJNI.XGBGetLastError();
        if (e == null || e.isBlank()) return "";
        int cut = e.indexOf("Stack trace:");
        return "; XGBoost: " + (cut < 0 ? e : e.substring(0, cut)).strip().replaceAll("\\s*\n\\s*", " ");
    }

    /** Runs task on the communication thread, waiting at most the timeout. */
    private <T> T call(String what, Callable<T> task) { return call(what, task, timeout); }

    private <T> T call(String what, Callable<T> task, Duration wait) {
        if (broken != null) throw new IllegalStateException("rank " + rank + ": the collective failed earlier (" + broken + "); cannot " + what);
        Future<T> f = thread.submit(task);
        try {
            return f.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            broken = "no answer within " + wait.toSeconds() + " s";
            throw new IllegalStateException("rank " + rank + " of " + world + ": could not " + what + ": no answer from the other processes within "
                    + wait.toSeconds() + " s (tracker " + tracker + "): a process was lost, hangs, or never started");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            broken = String.valueOf(cause.getMessage());
            if (cause instanceof RuntimeException re) throw re;
            throw new IllegalStateException("rank " + rank + ": could not " + what + ": " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            broken = "interrupted";
            throw new IllegalStateException("rank " + rank + ": interrupted while trying to " + what, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (broken == null) {
            try {
                Future<?> f = thread.submit(() -> XGBoostJNI.CommunicatorFinalize());
                f.get(Math.min(timeout.toMillis(), 30_000), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // shutting down after the work is done: nothing is lost if the goodbye fails
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        thread.shutdownNow();
    }

    @Override public String toString() { return "rank " + rank + " of " + world + " (XGBoost collective, tracker " + tracker + ")"; }
}
