package org.mae4j.train;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;

import java.util.Map;

/**
 * A model as the training engine ({@link Trainer}) drives it: pretraining, fine-tuning and the probe head
 * are three of these. The engine owns the loop, the optimizer, the schedule and the checkpoints; the model
 * only turns a micro-batch into a loss and gradients.
 */
public interface Trainable {
    /** Every tensor of the model (flat parameter and gradient buffers, trainable flags). */
    ParamStore params();

    /**
     * Forward and backward of one micro-batch: returns its mean loss and ADDS d loss / d params into
     * {@code params().flatGrads()} (the engine zeroes them once per optimizer step). All randomness of the pass
     * (masks, drop path, mixup) comes from {@link MicroBatch#random()}.
     */
    double forwardBackward(MicroBatch batch);

    /** The kernels its arithmetic runs on (the engine's gradient clipping uses them too). */
    Kernels kernels();

    /** What the checkpoint records as the kind of job: "pretrain", "finetune", "linprobe". */
    String kind();

    /** The MAE config of the encoder (and the decoder, for pretraining). */
    MaeConfig config();

    /** The activations a micro-batch of n samples needs (estimated from shapes), or null when unknown. */
    default MemoryNeed memory(int n) { return null; }

    /** The rest of the model's description for the checkpoint (head: classes, pooling, ...). */
    default Map<String, String> describe() { return Map.of(); }
}
