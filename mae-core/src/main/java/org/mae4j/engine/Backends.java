package org.mae4j.engine;

import org.nd4j.linalg.factory.Nd4j;

/** Which ND4J backend this JVM runs: the fast kernels ({@link CpuKernels}) read array memory directly and need the CPU one. */
public final class Backends {
    private Backends() {}

    /** True on ND4J's CPU backend (nd4j-native), false on CUDA and any other. */
    public static boolean isCpu() {
        return Nd4j.getBackend().getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT).contains("cpu");
    }

    /** The backend's class name, e.g. CpuBackend or JCublasBackend, for messages and reports. */
    public static String name() { return Nd4j.getBackend().getClass().getSimpleName(); }
}
