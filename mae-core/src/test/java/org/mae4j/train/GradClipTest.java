package org.mae4j.train;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.*;

/** GradClip against clip_grad_norm_'s definition, with gradients whose norm is known: (3, 4) and (12) give 13. */
class GradClipTest {

    private static ParamStore store() {
        ParamStore s = ParamStore.builder().add("a", true, 2).add("frozen", false, 1).add("b", true, 1, 1).build(DataType.FLOAT);
        s.grad("a").putScalar(0, 3).putScalar(1, 4);
        s.grad("frozen").putScalar(0, 100);   // a frozen tensor never counts (PyTorch only sees parameters with gradients)
        s.grad("b").putScalar(0, 12);
        return s;
    }

    private static Kernels kernels(String path) {
        // the fast path reads array memory directly: only on the CPU backend (docs/gpu/check.sh runs the rest on CUDA)
        if (path.equals("cpu")) org.junit.jupiter.api.Assumptions.assumeTrue(org.mae4j.engine.Backends.isCpu(), "fast kernels need the CPU backend");
        return path.equals("cpu") ? new CpuKernels() : new Nd4jKernels();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void clipsToMaxNormAndReturnsThePreClipNorm(String path) {
        ParamStore s = store();
        double norm = GradClip.clipGlobalNorm(s, kernels(path), 1.3);
        assertEquals(13, norm, 1e-6);
        double c = 1.3 / (13 + 1e-6);
        assertEquals(3 * c, s.grad("a").getDouble(0), 1e-6);
        assertEquals(4 * c, s.grad("a").getDouble(1), 1e-6);
        assertEquals(12 * c, s.grad("b").getDouble(0), 1e-6);
        assertEquals(1.3, GradClip.globalNorm(s, kernels(path)), 1e-6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void leavesGradientsBelowTheMaximumAlone(String path) {
        ParamStore s = store();
        assertEquals(13, GradClip.clipGlobalNorm(s, kernels(path), 13.5), 1e-6);
        assertEquals(3, s.grad("a").getDouble(0));
        assertEquals(12, s.grad("b").getDouble(0));
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGlobalNorm(s, kernels(path), 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void aNonFiniteNormIsReturnedWithGradientsUntouched(String path) {
        ParamStore s = store();
        s.grad("b").putScalar(0, Float.NaN);
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(s, kernels(path), 1)));
        assertEquals(3, s.grad("a").getDouble(0));
    }
}
