package org.mae4j.examples;

import org.mae4j.distributed.Tracker;
import org.mae4j.engine.GemmChoice;
import org.mae4j.distributed.XgbCollective;
import org.mae4j.train.Collective;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * Data-parallel training (a picocli mixin; docs/distributed.md): {@code --workers N} launches N processes on
 * this machine; {@code --tracker/--rank/--world-size} (or MAE4J_TRACKER, MAE4J_RANK, MAE4J_WORLD_SIZE) make this
 * process one rank of a run over several machines, rank 0 starting the tracker at the given address.
 */
final class DistributedOptions {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedOptions.class);
    static final String ENV_TRACKER = "MAE4J_TRACKER", ENV_RANK = "MAE4J_RANK", ENV_WORLD = "MAE4J_WORLD_SIZE";
    /** Set by the --workers launcher for its workers: the tracker runs in the launcher, rank 0 must not start one. */
    static final String ENV_TRACKER_RUNNING = "MAE4J_TRACKER_RUNNING";
    /** Set by the --workers launcher for its workers: stdin is the launcher's pipe, whose end means the launcher died. */
    static final String ENV_WATCH_LAUNCHER = "MAE4J_WATCH_LAUNCHER";

    @Option(names = "--workers", defaultValue = "0",
            description = "Train data-parallel in N worker processes on this machine, the cores split between them (0 = this process alone).")
    int workers;
    @Option(names = "--tracker", description = "host:port of a multi-machine run's tracker, started there by rank 0 (default: $" + ENV_TRACKER + ").")
    String tracker;
    @Option(names = "--rank", description = "This process's rank in a multi-machine run, 0 .. world-size - 1; rank 0 writes the output (default: $" + ENV_RANK + ").")
    Integer rank;
    @Option(names = "--world-size", description = "Processes of a multi-machine run (default: $" + ENV_WORLD + ").")
    Integer worldSize;
    @Option(names = "--collective-timeout", defaultValue = "300",
            description = "Seconds a process waits for the others in one exchange before giving up (a process that dies is noticed at once).")
    int timeoutSeconds;

    private Tracker ownTracker;

    /** The collective an embedding launcher (mae-spark's barrier tasks, through {@link EmbeddedRun}) gives the command run on this thread. */
    static final ThreadLocal<Collective> GIVEN = new ThreadLocal<>();

    /** Whether this process is a rank of a data-parallel run (by options, environment, or an embedding launcher). */
    boolean isRank() {
        return GIVEN.get() != null || tracker() != null || rank() != null || worldSize() != null;
    }

    /** Checks the options; call before anything heavy is loaded. */
    void validate() {
        if (workers < 0) throw new IllegalArgumentException("--workers must be >= 0, got " + workers);
        int cores = Runtime.getRuntime().availableProcessors();
        if (workers > Workers.maxWorkers(cores)) {
            throw new IllegalArgumentException("--workers " + workers + " is more than this machine can run: at most " + Workers.maxWorkers(cores)
                    + " (4 per core, " + cores + " cores; each worker is a JVM with its own copy of the model)");
        }
        if (timeoutSeconds < 1) throw new IllegalArgumentException("--collective-timeout must be >= 1 second, got " + timeoutSeconds);
        if (workers > 0 && (tracker != null || rank != null || worldSize != null)) {
            throw new IllegalArgumentException("--workers launches its own processes: it cannot be combined with --tracker, --rank or --world-size");
        }
        if (workers > 0 && GIVEN.get() != null) throw new IllegalArgumentException("--workers cannot be used inside a launcher that starts the ranks itself");
        if (workers == 0 && isRank() && GIVEN.get() == null) {
            if (tracker() == null || rank() == null || worldSize() == null) {
                throw new IllegalArgumentException("a multi-machine run needs all of --tracker, --rank and --world-size (or $" + ENV_TRACKER + ", $"
                        + ENV_RANK + ", $" + ENV_WORLD + "); got tracker " + tracker() + ", rank " + rank() + ", world size " + worldSize());
            }
            if (worldSize() < 1) throw new IllegalArgumentException("--world-size must be >= 1, got " + worldSize());
            if (rank() < 0 || rank() >= worldSize()) throw new IllegalArgumentException("--rank must be in 0.." + (worldSize() - 1) + ", got " + rank());
            hostPort(tracker());
        }
    }

    /** A training command's body, run as this process's rank. */
    @FunctionalInterface
    interface Training {
        int train(Collective collective) throws java.io.IOException;
    }

    /**
     * With --workers, launches the workers running {@code args} (the whole command line) and returns the first
     * failure's exit code; otherwise runs {@code training} as one process or as this process's rank, closing the
     * collective and any tracker it started.
     */
    int run(java.util.List<String> args, Training training) throws java.io.IOException {
        if (workers > 0) {
            try {
                return Workers.launch(workers, args, timeoutSeconds, System.out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 130;
            }
        }
        if ("1".equals(System.getenv(ENV_WATCH_LAUNCHER))) Workers.watchLauncher(System.in);
        Collective collective = connect();
        try {
            return training.train(collective);
        } finally {
            collective.close();
            closeTracker();
        }
    }

    /** The collective of this process: one process alone, or a rank joined through the tracker. */
    Collective connect() {
        if (!isRank()) return Collective.LOCAL;
        Collective given = GIVEN.get();
        int world = given != null ? given.worldSize() : worldSize();
        if (world > 1 && System.getProperty(GemmChoice.PROPERTY) == null && System.getenv(GemmChoice.ENV) == null) {
            // The automatic choice times each product shape in each process: two processes could choose different
            // paths, whose sums round differently, and their parameters would drift apart.
            GemmChoice.force("openblas");
            LOG.info("data parallel: every matrix product on OpenBLAS in every process (set {} the same everywhere to choose)", GemmChoice.ENV);
        }
        if (given != null) return given;
        String[] hp = hostPort(tracker());
        int port = Integer.parseInt(hp[1]);
        if (rank() == 0 && !"1".equals(System.getenv(ENV_TRACKER_RUNNING))) {
            ownTracker = new Tracker(hp[0], port, worldSize(), timeoutSeconds);
            LOG.info("tracker for {} processes listening on {}", worldSize(), ownTracker.address());
        }
        LOG.info("rank {} of {}: joining through the tracker at {}", rank(), worldSize(), tracker());
        Collective c = XgbCollective.connect(hp[0], port, rank(), worldSize(), Duration.ofSeconds(timeoutSeconds));
        LOG.info("rank {} of {}: all {} processes joined", rank(), worldSize(), worldSize());
        return c;
    }

    /** Stops the tracker this process started, if any (after its collective is closed). */
    void closeTracker() {
        if (ownTracker != null) {
            try {
                ownTracker.awaitDone(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ownTracker.close();
        }
    }

    String tracker() { return tracker != null ? tracker : blankToNull(System.getenv(ENV_TRACKER)); }

    Integer rank() { return rank != null ? rank : intEnv(ENV_RANK); }

    Integer worldSize() { return worldSize != null ? worldSize : intEnv(ENV_WORLD); }

    static String[] hostPort(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) throw new IllegalArgumentException("tracker address must be host:port, got '" + s + "'");
        String port = s.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tracker address must be host:port, got '" + s + "': the port is not a number");
        }
        if (p < 1 || p > 65535) throw new IllegalArgumentException("tracker port must be in 1..65535, got " + p);
        return new String[] {s.substring(0, colon), port};
    }

    private static String blankToNull(String s) { return s == null || s.isBlank() ? null : s.strip(); }

    private static Integer intEnv(String name) {
        String v = blankToNull(System.getenv(name));
        if (v == null) return null;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("$" + name + " must be an integer, got '" + v + "'");
        }
    }
}
