package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.mae4j.train.MicroBatch;
import org.mae4j.train.Trainable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Random;

/**
 * MAE pretraining as the training engine runs it (the reference's {@code main_pretrain.py} step): a random
 * mask per image, the masked-patch loss, its backward. The masking noise of a micro-batch is drawn from
 * {@link MicroBatch#random()} in sample order, a share of a global batch skipping the draws of the samples
 * before it, so that processes splitting a batch mask exactly as one process does.
 * Not thread-safe (one per training thread).
 */
public final class Pretraining implements Trainable {
    private final MaskedAutoencoder model;
    private INDArray images;   // [n, C, H, W], reused while n stays the same (no allocation per step)

    public Pretraining(MaskedAutoencoder model) {
        this.model = model;
    }

    public MaskedAutoencoder model() { return model; }

    @Override public ParamStore params() { return model.params(); }
    @Override public org.mae4j.engine.Kernels kernels() { return model.kernels(); }
    @Override public String kind() { return "pretrain"; }
    @Override public MaeConfig config() { return model.config(); }

    @Override
    public double forwardBackward(MicroBatch b) {
        MaeConfig c = model.config();
        if (images == null || images.size(0) != b.n()) {
            images = Nd4j.create(model.params().dataType(), b.n(), c.channels(), c.imageSize(), c.imageSize());
        }
        images.data().setData(b.inputs());
        Random rng = b.random();
        for (long i = (long) b.offset() * c.numPatches(); i > 0; i--) rng.nextDouble();   // the earlier samples' noise
        double loss = model.forward(images, rng).loss();
        if (Double.isFinite(loss)) model.backward();
        return loss;
    }

    @Override
    public org.mae4j.train.MemoryNeed memory(int n) { return memory(model.config(), n); }

    /** A training step's activations for a micro-batch of n images of config c (what {@link #memory(int)} says, without a model). */
    public static org.mae4j.train.MemoryNeed memory(MaeConfig c, int n) {
        int k = RandomMasking.numKept(c.numPatches(), c.maskRatio());
        var e = c.encoder();
        var d = c.decoder();
        long l = c.numPatches();
        org.mae4j.train.MemoryNeed io = new org.mae4j.train.MemoryNeed(4L * n * (1 + l) * (c.patchDim() * 4L + d.width() * 3L),
                (long) n * (1 + l) * Math.max(c.patchDim(), d.width()));
        return org.mae4j.train.MemoryNeed.blocks(n, 1 + k, e.width(), (int) (e.width() * e.mlpRatio()), e.heads(), e.depth())
                .plus(org.mae4j.train.MemoryNeed.blocks(n, 1 + l, d.width(), (int) (d.width() * d.mlpRatio()), d.heads(), d.depth())).plus(io);
    }

    @Override public Map<String, String> describe() { return Map.of("decoder", "yes"); }
}
