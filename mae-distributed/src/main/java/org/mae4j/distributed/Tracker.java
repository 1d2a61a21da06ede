package org.mae4j.distributed;

import ml.dmlc.xgboost4j.java.XGBoostJNI;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * XGBoost's rendezvous server for one run of {@code world} processes: each process tells it its rank, and it
 * introduces them to each other (the all-reduce ring then runs between the processes, not through it). It
 * serves one run; close it after the workers are done.
 *
 * <p>We call the tracker's JNI functions rather than {@code RabitTracker} because that class hard-codes
 * rank-by-host ordering; ordering by task id makes the process given rank R really rank R.
 */
public final class Tracker implements AutoCloseable {
    private static final int SORT_BY_TASK = 1;
    private final long handle;
    private final String host;
    private final int port;
    private final int world;
    private final Thread waiter;
    private volatile String failure;

    /**
     * Starts a tracker listening on {@code host:port} (port 0: a free one) that waits up to
     * {@code timeoutSeconds} for the workers to arrive.
     */
    public Tracker(String host, int port, int world, int timeoutSeconds) {
        if (world < 1) throw new IllegalArgumentException("the tracker needs >= 1 worker, got " + world);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("tracker port must be in 0..65535, got " + port);
        long[] out = new long[1];
        check(XGBoostJNI.TrackerCreate(host, world, port, SORT_BY_TASK, timeoutSeconds, out), "create the tracker on " + host + ":" + port);
        this.handle = out[0];
        check(XGBoostJNI.TrackerRun(handle), "start the tracker on " + host + ":" + port);
        String[] args = new String[1];
        check(XGBoostJNI.TrackerWorkerArgs(handle, timeoutSeconds, args), "read the tracker's address");
        Matcher uri = Pattern.compile("\"dmlc_tracker_uri\"\\s*:\\s*\"([^\"]+)\"").matcher(args[0]);
        Matcher p = Pattern.compile("\"dmlc_tracker_port\"\\s*:\\s*(\\d+)").matcher(args[0]);
        if (!uri.find() || !p.find()) throw new IllegalStateException("unexpected tracker worker arguments: " + args[0]);
        this.host = uri.group(1);
        this.port = Integer.parseInt(p.group(1));
        this.world = world;
        // the tracker's own loop ends when all workers have shut down (or failed): wait for it off the caller's thread
        this.waiter = new Thread(() -> {
            int rc = XGBoostJNI.TrackerWaitFor(handle, 0);
            if (rc != 0) failure = XGBoostJNI.XGBGetLastError();
        }, "mae4j-tracker");
        waiter.setDaemon(true);
        waiter.start();
    }

    public String host() { return host; }

    public int port() { return port; }

    public int world() { return world; }

    /** host:port, as workers are given it. */
    public String address() { return host + ":" + port; }

    /** The tracker's error, or null if none (yet). */
    public String failure() { return failure; }

    /** Waits up to millis for the run's workers to have finished with the tracker; true if they have. */
    public boolean awaitDone(long millis) throws InterruptedException {
        waiter.join(millis);
        return !waiter.isAlive();
    }

    @Override
    public void close() {
        // TrackerFree stops a tracker still waiting (workers lost) as well as a finished one
        XGBoostJNI.TrackerFree(handle);
    }

    static void check(int rc, String what) {
        if (rc != 0) throw new IllegalStateException("could not " + what + ": " + XGBoostJNI.XGBGetLastError());
    }
}
