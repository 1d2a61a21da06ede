package org.mae4j.finetune;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.mae4j.train.MicroBatch;
import org.mae4j.train.Trainable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tuning as the training engine runs it (the reference's {@code engine_finetune.train_one_epoch} step):
 * the classifier's forward on the augmented batch, cross-entropy against the smoothed labels, backward.
 * Not thread-safe (one per training thread).
 */
public final class FineTuning implements Trainable {
    private final VitClassifier model;
    private final double smoothing;
    private final List<String> classNames;
    private INDArray images;   // [n, C, H, W], reused while n stays the same

    public FineTuning(VitClassifier model, double smoothing, List<String> classNames) {
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        this.model = model;
        this.smoothing = smoothing;
        this.classNames = List.copyOf(classNames);
    }

    public VitClassifier model() { return model; }

    @Override public ParamStore params() { return model.params(); }
    @Override public String kind() { return "finetune"; }
    @Override public MaeConfig config() { return model.config(); }

    @Override
    public double forwardBackward(MicroBatch b) {
        if (b.labels() == null) throw new IllegalArgumentException("fine-tuning needs labeled data");
        MaeConfig c = model.config();
        if (images == null || images.size(0) != b.n()) images = Nd4j.create(model.params().dataType(), b.n(), c.channels(), c.imageSize(), c.imageSize());
        images.data().setData(b.inputs());
        double loss = model.forward(images, b.labels(), smoothing);
        if (Double.isFinite(loss)) model.backward();
        return loss;
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("head", "linear");
        m.put("classes", Integer.toString(model.classes()));
        m.put("pooling", "cls");
        if (!classNames.isEmpty()) m.put("class_names", String.join(",", classNames));
        return m;
    }
}
