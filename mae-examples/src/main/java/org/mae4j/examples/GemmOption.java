package org.mae4j.examples;

import org.mae4j.engine.GemmChoice;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The shared {@code --gemm} option: who computes the matrix products of every {@code CpuKernels} the command
 * builds. A command takes it with one line, {@code @picocli.CommandLine.Mixin GemmOption gemm;}; parsing sets it
 * for the JVM ({@link GemmChoice#force}), so kernels built anywhere later in the command follow it. "auto" (the
 * default) is the per-machine cached choice per product shape, unless MAE4J_GEMM or -Dmae4j.gemm fixes a path.
 */
public final class GemmOption {
    private String value = "auto";

    @Option(names = "--gemm", paramLabel = "PATH", defaultValue = "auto",
            description = "Matrix products: auto (per product shape, the faster on this machine, measured once and cached in ~/.mae4j), java (AVX-512 kernel) or openblas.")
    void set(String path) {
        try {
            GemmChoice.force(path);   // validates: a bad value is a one-line error naming --gemm
        } catch (IllegalArgumentException e) {
            // thrown as is, picocli would wrap it in "Could not invoke public void ...GemmOption.set(...)"
            throw new CommandLine.ParameterException(mixee.commandLine(), e.getMessage());
        }
        value = path;
    }

    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    /** As given: auto, java, openblas or blas. */
    public String value() { return value; }
}
