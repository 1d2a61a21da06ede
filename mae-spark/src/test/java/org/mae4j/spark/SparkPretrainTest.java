package org.mae4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.io.Checkpoint;
import org.mae4j.train.RunFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae pretrain as the two tasks of a barrier stage in Spark's local mode. */
class SparkPretrainTest {
    @Test
    void pretrainRunsAsTwoBarrierTasks(@TempDir Path dir) throws Exception {
        SparkJdk.assumeSparkRuns();
        SparkContext sc = new SparkContext(new SparkConf().setMaster("local[2]").setAppName("mae4j-test").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1"));
        List<Integer> codes;
        try {
            codes = SparkPretrain.run(sc, 2, Duration.ofSeconds(120), "--limit", "32", "--batch", "8", "--epochs", "1", "--max-steps", "2",
                    "--viz-images", "0", "--out", dir.toString());
        } finally {
            sc.stop();
        }
        assertEquals(List.of(0, 0), codes, "both ranks' exit codes");
        assertEquals(2, Checkpoint.load(dir.resolve(RunFolder.CHECKPOINT)).state().step());
        long steps = Files.readAllLines(dir.resolve(RunFolder.METRICS)).stream().filter(l -> l.contains("\"type\":\"step\"")).count();
        assertEquals(2, steps, "rank 0 alone logs each step");
    }
}
