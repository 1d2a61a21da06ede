package org.mae4j.distributed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.engine.Kernels;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.Collective;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** A checkpoint written by a 2-rank run (stopped by --max-steps mid-epoch) resumes on 1 or 2 processes. */
class ResumeTest {
    static final Supplier<Kernels> KERNELS = () -> MaskedAutoencoder.defaultKernels(DataType.FLOAT);

    @Test
    void aTwoRankCheckpointResumesOnOneOrTwoProcesses(@TempDir Path dir) throws Exception {
        // 2 epochs x 5 steps; the stop at step 7 falls in the second epoch
        MicroRun.Result whole = MicroRun.train(Collective.LOCAL, KERNELS, 3, MicroRun.options(2, 0), null, false);
        Path a = dir.resolve("a");
        List<MicroRun.Result> first = Ranks.values(Ranks.asThreads(2, Duration.ofSeconds(60),
                c -> MicroRun.train(c, KERNELS, 3, MicroRun.options(2, 7), a, false)));
        assertEquals(new TrainingState(1, 7, 7, 56, 7), first.get(0).state());
        Path b = dir.resolve("b");
        Files.createDirectories(b);
        Files.copy(a.resolve(RunFolder.CHECKPOINT), b.resolve(RunFolder.CHECKPOINT));

        MicroRun.Result onOne = MicroRun.train(Collective.LOCAL, KERNELS, 3, MicroRun.options(2, 0), a, true);
        List<MicroRun.Result> onTwo = Ranks.values(Ranks.asThreads(2, Duration.ofSeconds(60),
                c -> MicroRun.train(c, KERNELS, 3, MicroRun.options(2, 0), b, true)));

        List<Double> rest = whole.losses().subList(7, 10);
        for (MicroRun.Result r : List.of(onOne, onTwo.get(0), onTwo.get(1))) {
            assertEquals(whole.state(), r.state());
            DataParallelParityTest.assertLossesClose(rest, r.losses());
            DataParallelParityTest.assertParamsClose(whole.params(), r.params(), "resumed");
        }
        DataParallelParityTest.assertLossesClose(whole.losses().subList(0, 7), first.get(0).losses());
        // metrics.jsonl was written by rank 0 alone: one row per step
        long rows = Files.readAllLines(b.resolve(RunFolder.METRICS)).stream().filter(l -> l.contains("\"type\":\"step\"")).count();
        assertEquals(3, rows, "the resumed run's steps 8..10, once each");
    }
}
