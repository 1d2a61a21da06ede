package org.mae4j.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A request to stop training between two steps. {@link #onShutdown()} turns SIGINT/SIGTERM (Ctrl-C, a
 * scheduler's preemption) into such a request: the JVM's shutdown hook raises it and then holds the exit
 * until the trainer has finished its step and written its checkpoint ({@link #finished()}), or 10 minutes
 * passed. A shutdown hook rather than a signal handler: it is public API and covers every way a JVM is asked
 * to exit.
 */
public class StopSignal {
    /** Never asks to stop. */
    public static final StopSignal NONE = new StopSignal() {
        @Override public void request() { throw new UnsupportedOperationException("StopSignal.NONE cannot be requested: make a new StopSignal()"); }
    };

    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private Thread hook;

    /** Whether a stop was asked for. */
    public boolean requested() { return requested.get(); }

    /** Asks the trainer to stop after its current step (for tests and embedding applications). */
    public void request() { requested.set(true); }

    /** A signal raised by the JVM's shutdown (SIGINT, SIGTERM, System.exit). */
    public static StopSignal onShutdown() {
        StopSignal s = new StopSignal();
        s.hook = new Thread(() -> {
            s.requested.set(true);
            try {
                s.done.await(10, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "mae4j-stop-on-signal");
        Runtime.getRuntime().addShutdownHook(s.hook);
        return s;
    }

    /** Training is over (saved or failed): a pending shutdown may go on, and a normal exit no longer waits. */
    public void finished() {
        done.countDown();
        if (hook != null && !requested.get()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs and returns at once since done is counted down
            }
        }
    }
}
