package org.mae4j.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Which matrix product is faster on this machine: the Java AVX-512 kernel or OpenBLAS. It depends on the CPU
 * more than on anything we control: on the 2-core development machine of 2026-11-24 the Java kernel measured
 * ~300 GFLOP/s (4096^3) against OpenBLAS's ~195; on the one of 2026-11-29, an AMD EPYC of another generation
 * (without the avx_vnni and avx512_vp2intersect flags), ~165 against ~205. So it is measured, once per JVM,
 * on the products a ViT training step makes (see {@link #LAYERS}), after a warm-up that gets the Java kernel
 * compiled. The answer is a fact about the machine, computed once and never changed (the holder idiom: the
 * class initialises on first use).
 *
 * <p>Why many shapes and not one: a single 1536x384x768 product, the first version of this measurement,
 * favoured the Java kernel by a few % on the 2026-11-29 machine while OpenBLAS was faster on every product
 * of the tinyFmnist step (by 10-130%), and the step ran ~20% slower on the wrong choice.
 */
final class GemmChoice {
    private static final Logger LOG = LoggerFactory.getLogger(GemmChoice.class);
    /** Linear layers {in, out} of the shape classes in ViT-Tiny-like encoders and decoders (qkv, proj, fc1, fc2, narrow heads). */
    private static final int[][] LAYERS = {{192, 576}, {192, 192}, {192, 768}, {768, 192}, {96, 384}, {384, 96}};
    private static final int ROWS = 2048, WARMUP = 2, REPS = 4;
    private static final boolean JAVA_FASTER = measure();

    private GemmChoice() {}

    static boolean javaIsFaster() { return JAVA_FASTER; }

    /**
     * For each layer, its three products (forward x W^T, dX = dY W, dW = dY^T x), timed alternately on both
     * paths; the path with the smaller sum of best times wins.
     */
    private static boolean measure() {
        int threads = Runtime.getRuntime().availableProcessors();
        CpuKernels java = new CpuKernels(threads, true, CpuKernels.GemmPath.JAVA);
        CpuKernels blas = new CpuKernels(threads, true, CpuKernels.GemmPath.BLAS);
        // get the Java kernel compiled, with each of the transpositions the products below use
        INDArray wx = Nd4j.rand(DataType.FLOAT, ROWS, 384), ww = Nd4j.rand(DataType.FLOAT, 384, 384), wy = Nd4j.create(DataType.FLOAT, ROWS, 384);
        for (int i = 0; i < 8; i++) {
            java.gemm(wx, false, ww, false, wy, 1, 0);
            java.gemm(wx, false, ww, true, wy, 1, 0);
            java.gemm(wx, true, wy, false, ww, 1, 0);
        }
        double flop = 0, javaNs = 0, blasNs = 0;
        for (int[] layer : LAYERS) {
            int in = layer[0], out = layer[1];
            INDArray x = Nd4j.rand(DataType.FLOAT, ROWS, in), w = Nd4j.rand(DataType.FLOAT, out, in);
            INDArray y = Nd4j.rand(DataType.FLOAT, ROWS, out), dx = x.ulike(), dw = w.ulike();
            Product[] products = {new Product(x, false, w, true, y.ulike()), new Product(y, false, w, false, dx), new Product(y, true, x, false, dw)};
            for (Product p : products) {
                double[] best = bestOfBoth(java, blas, p);
                javaNs += best[0];
                blasNs += best[1];
                flop += 2.0 * ROWS * in * out;
            }
            closeAll(x, w, y, dx, dw, products[0].c());   // ~15 MB of native memory, not left to the GC
        }
        closeAll(wx, ww, wy);
        java.shutdown();
        blas.shutdown();
        boolean javaFaster = javaNs < blasNs;
        LOG.info(String.format(Locale.ROOT, "matrix products (%d ViT layer products): Java AVX-512 kernel %.0f GFLOP/s, OpenBLAS %.0f GFLOP/s -> using %s",
                3 * LAYERS.length, flop / javaNs, flop / blasNs, javaFaster ? "the Java kernel" : "OpenBLAS"));
        return javaFaster;
    }

    private static void closeAll(INDArray... arrays) {
        for (INDArray a : arrays) a.close();
    }

    /** c = op(a) op(b). */
    private record Product(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c) {}

    /** Best time in ns of the product on each path {java, blas}, the two timed in turn so drift hits both alike. */
    private static double[] bestOfBoth(CpuKernels java, CpuKernels blas, Product p) {
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
        CpuKernels[] paths = {java, blas};
        for (int i = 0; i < WARMUP + REPS; i++) {
            for (int q = 0; q < 2; q++) {
                long t0 = System.nanoTime();
                paths[q].gemm(p.a(), p.ta(), p.b(), p.tb(), p.c(), 1, 0);
                long dt = System.nanoTime() - t0;
                if (i >= WARMUP) best[q] = Math.min(best[q], dt);
            }
        }
        return best;
    }
}
