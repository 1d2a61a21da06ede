package org.mae4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * An optimizer over a {@code ParamStore}'s flat buffers, as the training engine drives it: one {@link #step}
 * per optimizer step with the schedule's learning rate (per-group lr scales and weight decay are the
 * optimizer's own business, fixed at construction), and its state as named flat buffers for checkpoints.
 */
public interface Optimizer {
    /** The optimizer's name as stored in checkpoints ("AdamW", "LARS"). */
    String name();

    /** Applies one update with the schedule's learning rate, using the current gradients. */
    void step(double lr);

    /** Updates taken so far. */
    long stepCount();

    /** Hyper-parameters by name, for the checkpoint manifest and for checking a resume against them. */
    Map<String, Double> hyperParameters();

    /** The state buffers by name (flat, the parameters' layout), live: for checkpoints. */
    Map<String, INDArray> state();

    /** Restores what {@link #stepCount()} and {@link #state()} returned. */
    void restore(long stepCount, Map<String, INDArray> state);
}
