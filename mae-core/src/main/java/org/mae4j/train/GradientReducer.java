package org.mae4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where data-parallel training sums the gradients of all processes, between the backward passes of a step
 * and the optimizer update. One process: nothing to do.
 */
@FunctionalInterface
public interface GradientReducer {
    /** Replaces {@code flatGrads} (this process's gradient sum over its micro-batches) by the sum over all processes; returns the number of processes. */
    int reduce(INDArray flatGrads);

    /** The one-process reducer. */
    GradientReducer LOCAL = g -> 1;
}
