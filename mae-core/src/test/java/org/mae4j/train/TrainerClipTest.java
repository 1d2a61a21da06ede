package org.mae4j.train;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The engine's --clip-grad: the optimizer sees the gradient scaled to the clip norm, after accumulation and averaging. */
class TrainerClipTest {

    /** loss = g . w with a fixed g, so d loss / d w = g whatever w is. */
    private static final class Linear implements Trainable {
        final ParamStore params = ParamStore.builder().add("w", true, 3).build(DataType.FLOAT);
        final float[] g;
        final Kernels kernels = new CpuKernels();

        Linear(float... g) { this.g = g; }

        @Override public ParamStore params() { return params; }
        @Override public double forwardBackward(MicroBatch batch) {
            INDArray grad = params.grad("w");
            for (int i = 0; i < g.length; i++) grad.putScalar(i, grad.getFloat(i) + g[i]);
            return 1.0;
        }
        @Override public Kernels kernels() { return kernels; }
        @Override public String kind() { return "test"; }
        @Override public MaeConfig config() { return MaeConfig.micro(); }
    }

    /** Records the gradient it is asked to apply. */
    private static final class Recorder implements Optimizer {
        final ParamStore params;
        final List<float[]> seen = new ArrayList<>();
        Recorder(ParamStore params) { this.params = params; }
        @Override public String name() { return "recorder"; }
        @Override public void step(double lr) { seen.add(params.flatGrads().dup().data().asFloat()); }
        @Override public long stepCount() { return seen.size(); }
        @Override public Map<String, Double> hyperParameters() { return Map.of(); }
        @Override public Map<String, INDArray> state() { return Map.of(); }
        @Override public void restore(long stepCount, Map<String, INDArray> state) {}
    }

    private static float[] firstGradient(double clip, int accum, float... g) throws Exception {
        Linear model = new Linear(g);
        Recorder opt = new Recorder(model.params());
        TrainData data = TrainData.features(new float[8], new int[8], 1);
        new Trainer(model, opt, data, new Trainer.Options(1, 2, accum, 1e-3, 0, 0, 0, 1, 1, clip)).train(TrainingState.start(0));
        assertEquals(1, opt.seen.size());
        return opt.seen.get(0);
    }

    @Test
    void aGradientAboveTheNormIsScaledDownToIt() throws Exception {
        // |(30, 40, 0)| = 50: clipped to 5 it is (3, 4, 0)
        assertArrayEquals(new float[] {3, 4, 0}, firstGradient(5, 1, 30, 40, 0), 1e-6f);
        // accumulated over 2 micro-batches and averaged first: still (30, 40, 0), then clipped
        assertArrayEquals(new float[] {3, 4, 0}, firstGradient(5, 2, 30, 40, 0), 1e-6f);
    }

    @Test
    void aGradientWithinTheNormOrClipOffIsUntouched() throws Exception {
        assertArrayEquals(new float[] {0.3f, 0.4f, 0}, firstGradient(5, 1, 0.3f, 0.4f, 0), 0f);
        assertArrayEquals(new float[] {30, 40, 0}, firstGradient(0, 1, 30, 40, 0), 0f);
    }
}
