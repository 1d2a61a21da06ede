package org.mae4j.finetune;

import org.mae4j.config.MaeConfig;
import org.mae4j.data.Mixup;
import org.mae4j.engine.ParamStore;
import org.mae4j.nn.DropPath;
import org.mae4j.train.MicroBatch;
import org.mae4j.train.Trainable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Fine-tuning as the training engine runs it (the reference's {@code engine_finetune.train_one_epoch} step):
 * Mixup/CutMix on the augmented batch (soft targets, timm's SoftTargetCrossEntropy) or label smoothing when
 * they are off, the classifier's forward with drop path, backward. The pass's randomness (the mixup draw, then
 * the drop-path masks block by block) comes from {@link MicroBatch#random()}, so a resumed run draws alike.
 * Not thread-safe (one per training thread).
 */
public final class FineTuning implements Trainable {
    private final VitClassifier model;
    private final Mixup mixup;
    private final double smoothing;
    private final List<String> classNames;
    private INDArray images;   // [n, C, H, W], reused while n stays the same
    private float[] targets;   // [n * classes] soft targets

    /**
     * @param mixup     Mixup/CutMix ({@link Mixup#off} for plain labels)
     * @param smoothing label smoothing when mixup is off (with mixup its own smoothing applies)
     */
    public FineTuning(VitClassifier model, Mixup mixup, double smoothing, List<String> classNames) {
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        this.model = Objects.requireNonNull(model, "model");
        this.mixup = Objects.requireNonNull(mixup, "mixup");
        this.smoothing = smoothing;
        this.classNames = List.copyOf(classNames);
    }

    public VitClassifier model() { return model; }

    @Override public ParamStore params() { return model.params(); }
    @Override public org.mae4j.engine.Kernels kernels() { return model.kernels(); }
    @Override public String kind() { return "finetune"; }
    @Override public MaeConfig config() { return model.config(); }

    @Override
    public double forwardBackward(MicroBatch b) {
        if (b.labels() == null) throw new IllegalArgumentException("fine-tuning needs labeled data");
        MaeConfig c = model.config();
        int n = b.n(), classes = model.classes();
        if (images == null || images.size(0) != n) {
            images = Nd4j.create(model.params().dataType(), n, c.channels(), c.imageSize(), c.imageSize());
            targets = new float[n * classes];
        }
        Random rng = b.random();
        double loss;
        // drawn for the whole global batch, this share's kept: data-parallel processes drop what one process drops
        DropPath.MaskSource masks = model.spec().dropPath() > 0 ? DropPath.MaskSource.share(rng, b.offset(), b.global()) : null;
        if (mixup.enabled()) {
            mixup.apply(b.inputs(), n, c.channels(), c.imageSize(), b.labels(), classes, targets, rng);   // mixes the batch in place
            images.data().setData(b.inputs());
            loss = model.forward(images, targets, masks);
        } else {
            images.data().setData(b.inputs());
            loss = model.forward(images, b.labels(), smoothing, masks);
        }
        if (Double.isFinite(loss)) model.backward();
        return loss;
    }

    @Override
    public org.mae4j.train.MemoryNeed memory(int n) { return memory(model.config(), n); }

    /** A fine-tuning step's activations for a micro-batch of n images of config c (what {@link #memory(int)} says, without a model). */
    public static org.mae4j.train.MemoryNeed memory(org.mae4j.config.MaeConfig c, int n) {
        var e = c.encoder();
        long t = 1 + c.numPatches();
        return org.mae4j.train.MemoryNeed.blocks(n, t, e.width(), (int) (e.width() * e.mlpRatio()), e.heads(), e.depth());
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("head", "linear");
        m.put("classes", Integer.toString(model.classes()));
        m.put("pooling", model.spec().pooling() == VitClassifier.Pooling.GLOBAL_AVERAGE ? "global" : "cls");
        m.put("drop_path", Double.toString(model.spec().dropPath()));
        // only partial fine-tuning says so: a full fine-tuning's description stays as it was
        if (model.spec().trainableBlocks() != VitClassifier.Spec.ALL_BLOCKS) m.put("trainable_blocks", Integer.toString(model.spec().trainableBlocks()));
        if (!classNames.isEmpty()) m.put("class_names", String.join(",", classNames));
        return m;
    }

    /** The classifier a finetune checkpoint's description and tensors make (its spec from the description). */
    public static VitClassifier.Spec spec(Map<String, String> describe, Object source) {
        int classes, trainableBlocks;
        double dropPath;
        try {
            classes = Integer.parseInt(describe.getOrDefault("classes", "-1"));
            dropPath = Double.parseDouble(describe.getOrDefault("drop_path", "0"));
            trainableBlocks = FinetuneRecipe.parseTrainableBlocks(describe.getOrDefault("trainable_blocks", FinetuneRecipe.ALL));
        } catch (IllegalArgumentException e) {   // NumberFormatException included
            throw new IllegalArgumentException(source + ": unreadable classifier description " + describe);
        }
        if (classes < 2) throw new IllegalArgumentException(source + ": its manifest does not say how many classes the head has");
        VitClassifier.Pooling pooling = switch (describe.getOrDefault("pooling", "cls")) {
            case "global" -> VitClassifier.Pooling.GLOBAL_AVERAGE;
            case "cls" -> VitClassifier.Pooling.CLS_TOKEN;
            default -> throw new IllegalArgumentException(source + ": unknown pooling '" + describe.get("pooling") + "'");
        };
        return new VitClassifier.Spec(classes, pooling, dropPath, trainableBlocks);
    }
}
