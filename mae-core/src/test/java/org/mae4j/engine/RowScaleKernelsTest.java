package org.mae4j.engine;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Kernels.scaleRowGroups and sumOfSquares on both implementations against plain double loops. */
class RowScaleKernelsTest {

    private static Kernels kernels(String path) {
        // the fast path reads array memory directly: only on the CPU backend (docs/gpu/check.sh runs the rest on CUDA)
        if (path.equals("cpu")) org.junit.jupiter.api.Assumptions.assumeTrue(org.mae4j.engine.Backends.isCpu(), "fast kernels need the CPU backend");
        return path.equals("cpu") ? new CpuKernels() : new Nd4jKernels();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void scaleRowGroupsMatchesLoops(String path) {
        Kernels k = kernels(path);
        Random rng = new Random(1);
        int groups = 3, rowsPer = 5, f = 7;
        float[] x = new float[groups * rowsPer * f], y = new float[x.length];
        for (int i = 0; i < x.length; i++) { x[i] = (float) rng.nextGaussian(); y[i] = (float) rng.nextGaussian(); }
        float[] scale = {0f, 1.25f, -2f};
        for (boolean acc : new boolean[] {false, true}) {
            INDArray src = Nd4j.createFromArray(x).reshape(groups * rowsPer, f);
            INDArray dst = Nd4j.createFromArray(y).reshape(groups * rowsPer, f);
            k.scaleRowGroups(src, scale, dst, acc);
            for (int i = 0; i < x.length; i++) {
                double want = (acc ? y[i] : 0) + (double) scale[i / (rowsPer * f)] * x[i];
                assertEquals(want, dst.getDouble(i / f, i % f), 1e-6, "element " + i + " accumulate " + acc);
            }
        }
        INDArray inPlace = Nd4j.createFromArray(x).reshape(groups * rowsPer, f);
        k.scaleRowGroups(inPlace, new float[] {0.5f}, inPlace, false);
        assertEquals(0.5 * x[40], inPlace.getDouble(40 / f, 40 % f), 1e-7);
        assertThrows(IllegalArgumentException.class, () -> k.scaleRowGroups(Nd4j.create(DataType.FLOAT, 5, 2), new float[3], Nd4j.create(DataType.FLOAT, 5, 2), false));
    }

    /** Large enough for the CPU kernel to split the work into chunks whose boundaries fall inside groups. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void scaleRowGroupsAcrossChunks(String path) {
        int groups = 7, per = 10007;
        float[] x = new float[groups * per], scale = new float[groups];
        Random rng = new Random(3);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        for (int g = 0; g < groups; g++) scale[g] = g * 0.5f - 1;
        INDArray a = Nd4j.createFromArray(x).reshape(groups * per, 1), out = Nd4j.ones(DataType.FLOAT, groups * per, 1);
        kernels(path).scaleRowGroups(a, scale, out, true);
        for (int i = 0; i < x.length; i += 13) assertEquals(1 + (double) scale[i / per] * x[i], out.getDouble(i, 0), 1e-6, "element " + i);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "nd4j"})
    void sumOfSquaresMatchesALoop(String path) {
        Random rng = new Random(2);
        float[] x = new float[100_003];
        double want = 0;
        for (int i = 0; i < x.length; i++) { x[i] = (float) rng.nextGaussian(); want += (double) x[i] * x[i]; }
        assertEquals(want, kernels(path).sumOfSquares(Nd4j.createFromArray(x)), 1e-9 * want);
    }
}
