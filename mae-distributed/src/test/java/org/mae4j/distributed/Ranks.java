package org.mae4j.distributed;

import org.mae4j.train.Collective;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Test support: W ranks of one run as threads of this JVM, over a real tracker and XGBoost collective. */
final class Ranks {
    /** What one rank's body gave: its value or its exception, and when it ended (seconds after the start). */
    record Outcome<T>(T value, Throwable error, double seconds) {}

    interface Body<T> {
        T run(Collective c) throws Exception;
    }

    static <T> List<Outcome<T>> asThreads(int world, Duration timeout, Body<T> body) throws Exception {
        return asThreads(world, timeout, XgbCollective.CHUNK, body);
    }

    static <T> List<Outcome<T>> asThreads(int world, Duration timeout, int chunk, Body<T> body) throws Exception {
        try (Tracker tracker = new Tracker("127.0.0.1", 0, world, 60)) {
            ExecutorService pool = Executors.newFixedThreadPool(world);
            long t0 = System.nanoTime();
            List<Future<Outcome<T>>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (XgbCollective c = XgbCollective.connect(tracker.host(), tracker.port(), rank, world, timeout, chunk)) {
                        T v = body.run(c);
                        return new Outcome<>(v, null, (System.nanoTime() - t0) / 1e9);
                    } catch (Throwable e) {
                        return new Outcome<T>(null, e, (System.nanoTime() - t0) / 1e9);
                    }
                }));
            }
            List<Outcome<T>> out = new ArrayList<>();
            for (Future<Outcome<T>> f : futures) out.add(f.get(5, TimeUnit.MINUTES));
            pool.shutdownNow();
            return out;
        }
    }

    /** The values, or the first rank's exception. */
    static <T> List<T> values(List<Outcome<T>> outcomes) throws Exception {
        List<T> v = new ArrayList<>();
        for (Outcome<T> o : outcomes) {
            if (o.error() instanceof Exception e) throw e;
            if (o.error() != null) throw new AssertionError(o.error());
            v.add(o.value());
        }
        return v;
    }

    private Ranks() {}
}
