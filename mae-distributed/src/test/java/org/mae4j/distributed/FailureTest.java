package org.mae4j.distributed;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.Kernels;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.Collective;
import org.mae4j.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** What a data-parallel run does when a process is lost, the tracker is unreachable, or the processes disagree. */
class FailureTest {
    static final Supplier<Kernels> KERNELS = () -> MaskedAutoencoder.defaultKernels(DataType.FLOAT);

    @Test
    void aRankThatLeavesMakesTheOtherFailNamingIt() throws Exception {
        List<Ranks.Outcome<Integer>> out = Ranks.asThreads(2, Duration.ofSeconds(60), c -> {
            float[] b = new float[1000];
            int done = 0;
            for (int i = 0; i < (c.rank() == 1 ? 3 : 1000); i++) { c.allReduceSum(b, b.length); done++; }
            if (c.rank() == 1) c.close();   // gone, like a killed process whose sockets the kernel closes
            return done;
        });
        assertEquals(3, out.get(1).value());
        Throwable e = out.get(0).error();
        assertNotNull(e, "rank 0 must fail once rank 1 is gone");
        assertInstanceOf(IllegalStateException.class, e);
        assertTrue(e.getMessage().contains("lost: rank 1"), e.getMessage());
        assertTrue(out.get(0).seconds() < 60, "rank 0 ended after " + out.get(0).seconds() + " s");
    }

    @Test
    void aRankThatHangsMakesTheOtherFailWithinTheTimeout() throws Exception {
        List<Ranks.Outcome<Integer>> out = Ranks.asThreads(2, Duration.ofSeconds(3), c -> {
            float[] b = new float[10];
            c.allReduceSum(b, b.length);
            if (c.rank() == 1) Thread.sleep(8000);   // alive, but no longer taking part
            c.allReduceSum(b, b.length);
            return 0;
        });
        Throwable e = out.get(0).error();
        assertNotNull(e, "rank 0 must give up after its 3 s timeout");
        assertTrue(e.getMessage().contains("no answer from the other processes within 3 s"), e.getMessage());
        assertTrue(out.get(0).seconds() < 7, "rank 0 ended after " + out.get(0).seconds() + " s");
    }

    @Test
    void anUnreachableTrackerIsAClearError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }   // free, and nobody listens on it now
        long t0 = System.nanoTime();
        int p = port;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> XgbCollective.connect("127.0.0.1", p, 0, 2, Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("cannot join the run through the tracker at 127.0.0.1:" + port), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "gave up after " + (System.nanoTime() - t0) / 1e9 + " s");
    }

    @Test
    void ranksStartedWithDifferentOptionsAreRefused() throws Exception {
        List<Ranks.Outcome<MicroRun.Result>> out = Ranks.asThreads(2, Duration.ofSeconds(60),
                c -> MicroRun.train(c, KERNELS, 3, MicroRun.options(c.rank() == 0 ? 1 : 2, 0), null, false));
        for (Ranks.Outcome<MicroRun.Result> o : out) {
            assertInstanceOf(IllegalArgumentException.class, o.error(), "both ranks refuse: " + o.error());
            assertTrue(o.error().getMessage().contains("rank(s) [1] were started differently from rank 0"), o.error().getMessage());
        }
    }

    @Test
    void aBatchThatDoesNotSplitIntoTheRanksIsRefused() {
        Collective three = new Collective() {
            @Override public int rank() { return 0; }
            @Override public int worldSize() { return 3; }
            @Override public void allReduceSum(float[] buf, int n) { throw new AssertionError("never reached"); }
            @Override public void close() {}
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MicroRun.train(three, KERNELS, 3, MicroRun.options(1, 0), null, false));
        assertTrue(e.getMessage().contains("batch 8 does not split into 3 equal shares"), e.getMessage());
    }

    @Test
    void aRankOtherThanZeroWithARunFolderIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Collective rank1 = new Collective() {
            @Override public int rank() { return 1; }
            @Override public int worldSize() { return 2; }
            @Override public void allReduceSum(float[] buf, int n) { throw new AssertionError("refused before any exchange"); }
            @Override public void close() {}
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MicroRun.train(rank1, KERNELS, 3, MicroRun.options(1, 0), dir, false, true));
        assertTrue(e.getMessage().contains("rank 1 was given a run folder: only rank 0 writes"), e.getMessage());
    }

    @Test
    void parametersThatDivergeAreCaughtAtTheNextCheck() throws Exception {
        ThreadCollective.Group g = new ThreadCollective.Group(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            // rank 1's gradient sums are off by 1e-3: its parameters drift from rank 0's from the first step on
            List<Future<MicroRun.Result>> f = List.of(
                    pool.submit(() -> MicroRun.train(new ThreadCollective(g, 0, 1, 1e-3f), KERNELS, 3, MicroRun.options(10, 0), null, false)),
                    pool.submit(() -> MicroRun.train(new ThreadCollective(g, 1, 1, 1e-3f), KERNELS, 3, MicroRun.options(10, 0), null, false)));
            for (Future<MicroRun.Result> r : f) {
                Exception e = assertThrows(Exception.class, r::get);
                assertInstanceOf(IllegalStateException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("after step 50 the parameters of rank(s) [1] differ from rank 0's"), e.getCause().getMessage());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void identicalRanksPassTheParameterCheck() throws Exception {
        ThreadCollective.Group g = new ThreadCollective.Group(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<MicroRun.Result>> f = List.of(
                    pool.submit(() -> MicroRun.train(new ThreadCollective(g, 0, 1, 0f), KERNELS, 3, MicroRun.options(10, 0), null, false)),
                    pool.submit(() -> MicroRun.train(new ThreadCollective(g, 1, 1, 0f), KERNELS, 3, MicroRun.options(10, 0), null, false)));
            for (Future<MicroRun.Result> r : f) assertEquals(50, r.get().state().step());
        } finally {
            pool.shutdownNow();
        }
    }
}
