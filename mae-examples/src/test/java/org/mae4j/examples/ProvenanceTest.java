package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ProfilingKernels;

import static org.junit.jupiter.api.Assertions.*;

/** Provenance names the kernels in use in words a reader can check, not an object hash (issue 32). */
class ProvenanceTest {

    @Test
    void theKernelsAreDescribedNotHashed() {
        String cpu = Provenance.of("pretrain", new CpuKernels(1, false, CpuKernels.GemmPath.BLAS)).get("kernels");
        assertEquals("CpuKernels (1 thread, Vector API off, gemm: openblas (requested))", cpu);
        String portable = Provenance.of("pretrain", new Nd4jKernels()).get("kernels");
        assertTrue(portable.startsWith("Nd4jKernels (portable ND4J ops, backend "), portable);
        String profiled = Provenance.of("bench", new ProfilingKernels(new CpuKernels(2, false, CpuKernels.GemmPath.AUTO))).get("kernels");
        assertTrue(profiled.startsWith("ProfilingKernels over CpuKernels (2 threads, Vector API off, gemm: openblas ("), profiled);
        for (String s : new String[] {cpu, portable, profiled}) assertFalse(s.matches(".*@[0-9a-f]{4,}.*"), "an object hash: " + s);
    }
}
