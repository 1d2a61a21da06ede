package org.mae4j.probe;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.train.MicroBatch;
import org.mae4j.train.Trainable;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Linear probing as the training engine runs it (the reference's {@code main_linprobe.py} step): the frozen
 * encoder's features of a batch through the {@link ProbeHead} (BatchNorm without affine parameters, then a
 * linear layer), cross-entropy, backward into the head. Only the head trains; the checkpoint holds the head
 * and names the encoder it probes in its provenance.
 */
public final class LinearProbing implements Trainable {
    private final ProbeHead head;
    private final MaeConfig encoder;
    private final Map<String, String> description;
    private final Kernels kernels;

    /**
     * @param head        the head, over its own store
     * @param encoder     the config of the encoder whose features it reads
     * @param kernels     for the engine's arithmetic on the head's buffers (the head itself computes in Java)
     * @param description what the features are (pooling, blocks), for the checkpoint
     */
    public LinearProbing(ProbeHead head, MaeConfig encoder, Kernels kernels, Map<String, String> description) {
        this.head = head;
        this.kernels = kernels;
        this.encoder = encoder;
        this.description = new LinkedHashMap<>(description);
        this.description.put("head", "batchnorm+linear");
        this.description.put("classes", Integer.toString(head.classes()));
        this.description.put("feature_dim", Integer.toString(head.featureDim()));
    }

    public ProbeHead head() { return head; }

    @Override public ParamStore params() { return head.store(); }
    @Override public Kernels kernels() { return kernels; }
    @Override public String kind() { return "linprobe"; }
    @Override public MaeConfig config() { return encoder; }
    @Override public Map<String, String> describe() { return description; }

    @Override
    public double forwardBackward(MicroBatch b) {
        if (b.labels() == null) throw new IllegalArgumentException("linear probing needs labeled data");
        double loss = head.forwardTrain(b.inputs(), b.labels(), b.n());
        if (Double.isFinite(loss)) head.backward();
        return loss;
    }
}
