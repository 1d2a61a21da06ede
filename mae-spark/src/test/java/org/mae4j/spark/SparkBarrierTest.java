package org.mae4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.Pretraining;
import org.mae4j.train.AdamW;
import org.mae4j.train.Collective;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Two ranks as the two tasks of a barrier stage in Spark's local mode, over the real XGBoost collective. */
class SparkBarrierTest {
    private static SparkContext sc;

    @BeforeAll
    static void start() {
        SparkJdk.assumeSparkRuns();
        sc = new SparkContext(new SparkConf().setMaster("local[2]").setAppName("mae4j-test").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1"));
    }

    @AfterAll
    static void stop() { if (sc != null) sc.stop(); }

    @Test
    void theTasksOfABarrierStageAreTheRanks() {
        List<float[]> out = SparkBarrier.run(sc, 2, Duration.ofSeconds(60), c -> {
            float[] b = {c.rank() + 1f, 10f * (c.rank() + 1), c.worldSize()};
            c.allReduceSum(b, 3);
            return b;
        });
        assertEquals(2, out.size());
        for (float[] b : out) assertArrayEquals(new float[] {3f, 30f, 4f}, b, "1 + 2, 10 + 20, 2 + 2");
    }

    /** n smooth random 3-channel 16 px images. */
    record Synthetic(int size) implements ImageDataset, java.io.Serializable {
        @Override public int channels() { return 3; }
        @Override public int imageSize() { return 16; }
        @Override public boolean hasLabels() { return false; }
        @Override public int label(int i) { throw new IllegalStateException("unlabeled"); }
        @Override public List<String> classNames() { return List.of(); }
        @Override public void image(int i, float[] dst, int offset) {
            Random r = new Random(i);
            double fx = r.nextDouble() * 0.5, fy = r.nextDouble() * 0.5, ph = r.nextDouble() * 6;
            for (int c = 0; c < 3; c++) for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
                dst[offset + (c * 16 + y) * 16 + x] = (float) (0.5 + 0.4 * Math.sin(fx * x + fy * y + ph + c));
            }
        }
    }

    /** 5 AdamW steps of batch 8 of the micro preset; the per-step losses. */
    static double[] train(Collective c) throws Exception {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.micro(), new Random(3));
        AdamW opt = new AdamW(m.params(), m.kernels(), AdamW.Hyper.mae());
        List<Double> losses = new ArrayList<>();
        new Trainer(new Pretraining(m), opt, TrainData.images(new Synthetic(40), Augment.mae(3)), new Trainer.Options(1, 8, 1, 1e-2, 0, 1, 7, 1, 0, 0))
                .distributed(c)
                .listen(new Trainer.Listener() {
                    @Override public void onStep(Trainer.StepReport r) { losses.add(r.loss()); }
                })
                .train(TrainingState.start(7));
        return losses.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void twoSparkTasksTrainWhatOneProcessTrains() throws Exception {
        double[] one = train(Collective.LOCAL);
        List<double[]> two = SparkBarrier.run(sc, 2, Duration.ofSeconds(120), SparkBarrierTest::train);
        for (double[] l : two) {
            assertEquals(5, l.length);
            for (int i = 0; i < 5; i++) {
                double rel = Math.abs(l[i] - one[i]) / one[i];
                assertTrue(rel <= 1e-6, "step " + (i + 1) + ": global loss " + l[i] + " vs one process " + one[i] + " (relative " + rel + ")");
            }
        }
    }
}
