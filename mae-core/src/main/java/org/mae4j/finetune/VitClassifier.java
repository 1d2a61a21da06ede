package org.mae4j.finetune;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaeEncoder;
import org.mae4j.mae.MaskSample;
import org.mae4j.nn.Linear;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * The MAE encoder with a linear classification head on its cls token, for fine-tuning (the reference's
 * {@code models_vit.VisionTransformer} with {@code global_pool=False}): every patch is visible, the encoder's
 * final norm is kept, {@code head} maps the cls token to class logits, the loss is softmax cross-entropy with
 * optional label smoothing. Parameters: the encoder's under their MAE keys plus {@code head.weight},
 * {@code head.bias}, in one {@link ParamStore}.
 * Not thread-safe; one instance per training thread.
 */
public final class VitClassifier {
    private final MaeConfig cfg;
    private final int classes;
    private final ParamStore store;
    private final Kernels k;
    private final MaeEncoder encoder;
    private final Linear head;
    private int n = -1;
    private int[] clsRows, identity;
    private INDArray cls, logits, dLogits, dCls, dLatent;

    public VitClassifier(MaeConfig cfg, int classes, ParamStore store, Kernels kernels) {
        if (classes < 2) throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        this.cfg = cfg;
        this.classes = classes;
        this.store = store;
        this.k = kernels;
        this.encoder = new MaeEncoder(cfg, kernels, store);
        this.head = new Linear(kernels, store, "head");
    }

    /** The encoder's tensors (MAE names) and the head's. */
    public static ParamStore.Builder layout(MaeConfig c, int classes) {
        ParamStore.Builder b = ParamStore.builder();
        int l = c.numPatches(), d = c.encoder().width();
        b.add("cls_token", true, 1, 1, d);
        b.add("pos_embed", false, 1, 1 + l, d);
        MaeEncoder.declare(b, c);
        Linear.declare(b, "head", d, classes);
        return b;
    }

    /**
     * A classifier whose encoder is copied from an MAE's parameters (pretrained, or freshly initialised for a
     * baseline) and whose head starts as the reference's: normal(std 2e-5) weights, zero bias.
     */
    public static VitClassifier fromEncoder(MaeConfig cfg, ParamStore mae, int classes, Kernels kernels, Random rng) {
        ParamStore store = layout(cfg, classes).build(mae.dataType());
        for (ParamStore.Entry e : store.entries()) {
            if (!e.name().startsWith("head.")) store.set(e.name(), mae.param(e.name()));
        }
        double[] w = new double[classes * cfg.encoder().width()];
        for (int i = 0; i < w.length; i++) w[i] = 2e-5 * rng.nextGaussian();
        store.set("head.weight", Nd4j.createFromArray(w).reshape(classes, cfg.encoder().width()));
        return new VitClassifier(cfg, classes, store, kernels);
    }

    /**
     * Forward of a batch: images [N,C,H,W], labels[N] in [0, classes). Returns the mean cross-entropy against
     * targets (1 - smoothing) on the label + smoothing / classes everywhere (PyTorch's label_smoothing).
     */
    public double forward(INDArray images, int[] labels, double smoothing) {
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        double[] p = logits(images);
        if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for a batch of " + n);
        double loss = 0;
        float[] d = new float[n * classes];
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " of image " + i + " is outside [0, " + classes + ")");
            int o = i * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, p[o + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(p[o + c] - max);
            double logSum = Math.log(sum) + max;
            for (int c = 0; c < classes; c++) {
                double target = smoothing / classes + (c == y ? 1 - smoothing : 0);
                double logp = p[o + c] - logSum;
                loss -= target * logp;
                d[o + c] = (float) ((Math.exp(logp) - target) / n);
            }
        }
        if (dLogits.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT) dLogits.data().setData(d);
        else dLogits.assign(Nd4j.createFromArray(d).reshape(n, classes).castTo(dLogits.dataType()));
        return loss / n;
    }

    /** Class logits [N * classes], row-major, of a batch (in double: the loss of a double-precision model stays exact). */
    public double[] logits(INDArray images) { return logits(images, false); }

    /**
     * As {@link #logits(INDArray)}; with inference the encoder runs its inference pass (one set of block
     * activations, its training buffers untouched, so an evaluation batch of another size does not
     * reallocate them).
     */
    private double[] logits(INDArray images, boolean inference) {
        int nb = (int) images.size(0), l = cfg.numPatches();
        ensure(nb);
        MaskSample all = MaskSample.keepAll(nb, l);
        INDArray latent = inference ? encoder.infer(images, all) : encoder.forward(images, all);
        k.copyRows(latent, clsRows, cls, identity, false);
        head.forward(cls, logits);
        return logits.data().asDouble();
    }

    /** Predicted class per image (the encoder's inference pass; call forward again before a backward). */
    public int[] predict(INDArray images) {
        double[] p = logits(images, true);
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (p[i * classes + c] > p[i * classes + best]) best = c;
            r[i] = best;
        }
        return r;
    }

    /** Adds d loss / d param of the last {@link #forward} to the gradients (call {@code params().zeroGrad()} first). */
    public void backward() {
        if (dLogits == null) throw new IllegalStateException("backward() needs a forward() first");
        head.backward(dLogits, cls, dCls, false);
        k.zero(dLatent);
        k.copyRows(dCls, identity, dLatent, clsRows, false);
        encoder.backward(dLatent);
    }

    private void ensure(int nb) {
        if (nb == n) return;
        n = nb;
        int l = cfg.numPatches(), d = cfg.encoder().width();
        clsRows = new int[nb];
        identity = new int[nb];
        for (int i = 0; i < nb; i++) { clsRows[i] = i * (1 + l); identity[i] = i; }
        cls = Nd4j.create(store.dataType(), nb, d);
        dCls = Nd4j.create(store.dataType(), nb, d);
        logits = Nd4j.create(store.dataType(), nb, classes);
        dLogits = Nd4j.create(store.dataType(), nb, classes);
        dLatent = Nd4j.create(store.dataType(), (long) nb * (1 + l), d);
    }

    /** Class logits [N * classes] of a batch from the encoder's inference pass (training buffers untouched). */
    public double[] inferenceLogits(INDArray images) { return logits(images, true); }

    public MaeConfig config() { return cfg; }
    public int classes() { return classes; }
    public ParamStore params() { return store; }
    public Kernels kernels() { return k; }

    @Override public String toString() { return "VitClassifier[" + cfg.encoder() + ", " + classes + " classes, " + store.numTrainable() + " parameters]"; }
}
