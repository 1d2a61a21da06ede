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
 * (without the avx_vnni and avx512_vp2intersect flags), ~165 against ~205. So it is measured, once per JVM, on a product of the
 * size the models use, after a warm-up that gets the Java kernel compiled. The answer is a fact about the
 * machine, computed once and never changed (the holder idiom: the class initialises on first use).
 */
final class GemmChoice {
    private static final Logger LOG = LoggerFactory.getLogger(GemmChoice.class);
    private static final boolean JAVA_FASTER = measure();

    private GemmChoice() {}

    static boolean javaIsFaster() { return JAVA_FASTER; }

    /** Best of a few [m,k]x[k,n] products on each path; true when the Java kernel wins. */
    private static boolean measure() {
        int threads = Runtime.getRuntime().availableProcessors();
        CpuKernels java = new CpuKernels(threads, true, CpuKernels.GemmPath.JAVA);
        CpuKernels blas = new CpuKernels(threads, true, CpuKernels.GemmPath.BLAS);
        int m = 1536, k = 384, n = 768;   // the shape class of a ViT block's products at training batch sizes
        INDArray a = Nd4j.rand(DataType.FLOAT, m, k), b = Nd4j.rand(DataType.FLOAT, k, n), c = Nd4j.create(DataType.FLOAT, m, n);
        double javaGf = best(java, a, b, c), blasGf = best(blas, a, b, c);
        boolean javaFaster = javaGf > blasGf;
        LOG.info(String.format(Locale.ROOT, "matrix products: Java AVX-512 kernel %.0f GFLOP/s, OpenBLAS %.0f GFLOP/s -> using %s",
                javaGf, blasGf, javaFaster ? "the Java kernel" : "OpenBLAS"));
        return javaFaster;
    }

    private static double best(CpuKernels k, INDArray a, INDArray b, INDArray c) {
        double flop = 2.0 * a.size(0) * a.size(1) * b.size(1), best = 0;
        for (int i = 0; i < 8; i++) k.gemm(a, false, b, false, c, 1, 0);      // warm-up: JIT, packing buffers, BLAS threads
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            k.gemm(a, false, b, false, c, 1, 0);
            best = Math.max(best, flop / (System.nanoTime() - t0));
        }
        return best;   // flop per ns = GFLOP/s
    }
}
