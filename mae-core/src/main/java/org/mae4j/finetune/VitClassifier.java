package org.mae4j.finetune;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.PatchEmbed;
import org.mae4j.nn.DropPath;
import org.mae4j.nn.LayerNorm;
import org.mae4j.nn.Linear;
import org.mae4j.nn.TransformerBlock;
import org.mae4j.train.ParamGroups;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * The ViT classifier of the reference's fine-tuning ({@code models_vit.VisionTransformer}): every patch is
 * embedded, the cls token prepended, the trainable position table added, the encoder blocks run (with drop
 * path in training), then one of the reference's two heads:
 * <ul>
 * <li>{@link Pooling#GLOBAL_AVERAGE} ({@code global_pool=True}, the reference default): the mean of the L
 *     patch tokens, {@code fc_norm}, {@code head}; the encoder's final {@code norm} does not exist;</li>
 * <li>{@link Pooling#CLS_TOKEN}: the encoder's final {@code norm} on the cls token, {@code head}.</li>
 * </ul>
 * The loss is the soft-target cross-entropy (timm's {@code SoftTargetCrossEntropy}); hard labels with label
 * smoothing s are the targets {@code (1 - s) onehot + s / classes} (timm's {@code LabelSmoothingCrossEntropy}).
 * Parameters under the reference's state_dict keys, all trainable (pos_embed included), in one {@link ParamStore}.
 * After the first step of a batch size, forward and backward allocate no native arrays.
 * Not thread-safe; one instance per training thread.
 */
public final class VitClassifier {

    /** How the encoder's tokens become the head's input. */
    public enum Pooling {
        /** Mean of the patch tokens (cls excluded), then {@code fc_norm}: the reference's default. */
        GLOBAL_AVERAGE,
        /** The cls token after the encoder's final {@code norm}. */
        CLS_TOKEN
    }

    /**
     * The classifier's settings.
     *
     * @param classes  number of classes, >= 2
     * @param pooling  the head's input
     * @param dropPath stochastic-depth rate in [0, 1): block i drops with {@code DropPath.rates(dropPath, depth)[i]}
     * @param trainableBlocks {@link #ALL_BLOCKS} (full fine-tuning, every tensor trains), or K in [0, depth]: partial
     *                 fine-tuning, only the last K blocks, the final norm / fc_norm and the head train; patch_embed,
     *                 cls_token, pos_embed and the first depth - K blocks are frozen (see {@link #trains})
     */
    public record Spec(int classes, Pooling pooling, double dropPath, int trainableBlocks) {
        /** Every tensor trains: the reference's full fine-tuning (K = depth still freezes the embeddings). */
        public static final int ALL_BLOCKS = -1;

        public Spec {
            if (classes < 2) throw new IllegalArgumentException("need at least 2 classes, got " + classes);
            Objects.requireNonNull(pooling, "pooling");
            if (!(dropPath >= 0 && dropPath < 1)) throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + dropPath);
            if (trainableBlocks < ALL_BLOCKS) throw new IllegalArgumentException("trainable blocks must be >= 0 (or all), got " + trainableBlocks);
        }

        /** Full fine-tuning: every tensor trains. */
        public Spec(int classes, Pooling pooling, double dropPath) { this(classes, pooling, dropPath, ALL_BLOCKS); }

        /**
         * Whether the tensor trains in an encoder of this depth: always for {@link #ALL_BLOCKS}, else when its layer
         * ({@link ParamGroups#layerId}: 0 for the embeddings, i + 1 for block i, depth + 1 for norm / fc_norm / head)
         * is above depth - K. Fails in one line when K exceeds the depth.
         */
        public boolean trains(String tensor, int depth) {
            if (trainableBlocks == ALL_BLOCKS) return true;
            if (trainableBlocks > depth) throw new IllegalArgumentException("trainable blocks " + trainableBlocks + " exceeds the encoder's depth " + depth + " (give 0 to " + depth + ")");
            return ParamGroups.layerId(tensor, depth) > depth - trainableBlocks;
        }

        /** Global pooling (the reference's default head), no drop path. */
        public static Spec of(int classes) { return new Spec(classes, Pooling.GLOBAL_AVERAGE, 0); }
        /** The defaults of the reference's {@code main_finetune.py}: global pooling, drop path 0.1. */
        public static Spec reference(int classes) { return new Spec(classes, Pooling.GLOBAL_AVERAGE, 0.1); }
        public Spec withDropPath(double rate) { return new Spec(classes, pooling, rate, trainableBlocks); }
        public Spec withPooling(Pooling p) { return new Spec(classes, p, dropPath, trainableBlocks); }
        public Spec withTrainableBlocks(int k) { return new Spec(classes, pooling, dropPath, k); }
    }

    private final MaeConfig cfg;
    private final Spec spec;
    private final ParamStore store;
    private final Kernels k;
    private final PatchEmbed patchEmbed;
    private final TransformerBlock[] blocks;
    private final double[] dropRates;
    private final LayerNorm finalNorm;           // fc_norm (global pooling) or norm (cls token)
    private final Linear head;
    private final INDArray pos, dpos;            // [1+L, D]
    private final INDArray cls, dcls;            // [1, D]
    private final float[] invPatches;            // {1/L}: the mean as a one-group scale
    private final int firstTrainable;            // the first block whose weights train (depth: none, only the head)

    private Pass train, inference;
    private TransformerBlock.Scratch scratch;
    private TransformerBlock.Activations shared; // inference: one set for all blocks
    private double[] hostLogits, hostTargets, hostGrad;
    private boolean haveForward;

    public VitClassifier(MaeConfig cfg, Spec spec, ParamStore store, Kernels kernels) {
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.store = store;
        this.k = kernels;
        int d = cfg.encoder().width(), l = cfg.numPatches(), depth = cfg.encoder().depth();
        // The layers check names; these catch a store built for another head or an MAE's (frozen pos_embed).
        requireShape(store, "head.weight", spec.classes(), d);
        requireShape(store, "pos_embed", 1, 1 + l, d);
        for (ParamStore.Entry e : store.entries()) {
            if (e.trainable() != spec.trains(e.name(), depth)) {
                throw new IllegalArgumentException(e.name() + " is " + (e.trainable() ? "trainable" : "frozen") + " in this store but this classifier "
                        + (e.trainable() ? "freezes" : "trains") + " it (build the store with VitClassifier.layout)");
            }
        }
        this.firstTrainable = spec.trainableBlocks() == Spec.ALL_BLOCKS ? 0 : depth - spec.trainableBlocks();
        this.patchEmbed = new PatchEmbed(kernels, store);
        this.dropRates = DropPath.rates(spec.dropPath(), depth);
        this.blocks = new TransformerBlock[depth];
        for (int i = 0; i < depth; i++) {
            blocks[i] = new TransformerBlock(kernels, store, "blocks." + i, cfg.encoder(), cfg.normEps(), dropRates[i]);
        }
        this.finalNorm = new LayerNorm(kernels, store, spec.pooling() == Pooling.GLOBAL_AVERAGE ? "fc_norm" : "norm", cfg.normEps());
        this.head = new Linear(kernels, store, "head");
        this.pos = store.param("pos_embed").reshape('c', 1 + l, d);
        this.dpos = store.grad("pos_embed").reshape('c', 1 + l, d);
        this.cls = store.param("cls_token").reshape('c', 1, d);
        this.dcls = store.grad("cls_token").reshape('c', 1, d);
        this.invPatches = new float[] {1f / l};
    }

    private static void requireShape(ParamStore store, String name, long... shape) {
        long[] got = store.entry(name).shape();
        if (!Arrays.equals(got, shape)) {
            throw new IllegalArgumentException("'" + name + "' has shape " + Arrays.toString(got) + ", this classifier needs " + Arrays.toString(shape));
        }
    }

    /**
     * The parameter names and shapes, in the reference's state_dict order; trainable as {@link Spec#trains} says
     * (every tensor for full fine-tuning). Frozen tensors are left out of the optimizer's groups, so they get no
     * update, no weight decay and no moment; the flags travel in the checkpoint.
     */
    public static ParamStore.Builder layout(MaeConfig c, Spec spec) {
        ParamStore.Builder b = ParamStore.builder();
        int l = c.numPatches(), d = c.encoder().width(), depth = c.encoder().depth();
        b.add("cls_token", true, 1, 1, d);
        b.add("pos_embed", true, 1, 1 + l, d);
        PatchEmbed.declare(b, c);
        for (int i = 0; i < depth; i++) TransformerBlock.declare(b, "blocks." + i, c.encoder());
        if (spec.pooling() == Pooling.CLS_TOKEN) LayerNorm.declare(b, "norm", d);
        Linear.declare(b, "head", d, spec.classes());
        if (spec.pooling() == Pooling.GLOBAL_AVERAGE) LayerNorm.declare(b, "fc_norm", d);
        return b.freeze(name -> !spec.trains(name, depth));   // the layers declare their tensors trainable
    }

    /** As {@link #fromEncoder(MaeConfig, ParamStore, Spec, Kernels, Random)} with {@link Spec#of} (global pooling, no drop path). */
    public static VitClassifier fromEncoder(MaeConfig cfg, ParamStore mae, int classes, Kernels kernels, Random rng) {
        return fromEncoder(cfg, mae, Spec.of(classes), kernels, rng);
    }

    /**
     * A classifier initialised as the reference's {@code main_finetune.py}: cls_token, pos_embed, patch_embed and
     * blocks (and, for cls-token pooling, the final norm) copied from an MAE's parameters (pretrained, or freshly
     * initialised for a baseline); fc_norm weight 1, bias 0; head weight from a normal of std 2e-5 truncated at
     * +-2 (absolute, as timm's {@code trunc_normal_}), head bias 0. The store has the MAE's dtype.
     */
    public static VitClassifier fromEncoder(MaeConfig cfg, ParamStore mae, Spec spec, Kernels kernels, Random rng) {
        ParamStore store = layout(cfg, spec).build(mae.dataType());
        for (ParamStore.Entry e : store.entries()) {
            String n = e.name();
            if (!n.startsWith("head.") && !n.startsWith("fc_norm.")) store.set(n, mae.param(n));
        }
        if (spec.pooling() == Pooling.GLOBAL_AVERAGE) store.param("fc_norm.weight").assign(1);
        int d = cfg.encoder().width();
        double[] w = new double[spec.classes() * d];
        for (int i = 0; i < w.length; i++) {
            double v;
            do { v = 2e-5 * rng.nextGaussian(); } while (Math.abs(v) > 2);
            w[i] = v;
        }
        store.set("head.weight", Nd4j.createFromArray(w).reshape(spec.classes(), d));
        return new VitClassifier(cfg, spec, store, kernels);
    }

    // ------------------------------------------------------------------ training forward and backward

    /** As {@link #forward(INDArray, int[], double, DropPath.MaskSource)} without drop path; fails when the spec has a drop-path rate. */
    public double forward(INDArray images, int[] labels, double smoothing) { return forward(images, labels, smoothing, null); }

    /**
     * Training forward with hard labels: images [N,C,H,W], labels [N] in [0, classes); returns the mean
     * cross-entropy against {@code (1 - smoothing) onehot(label) + smoothing / classes}. masks decides the
     * drop-path samples (null only when the spec's drop-path rate is 0).
     */
    public double forward(INDArray images, int[] labels, double smoothing, DropPath.MaskSource masks) {
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        int n = checkImages(images);
        if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for a batch of " + n);
        int c = spec.classes();
        double[] t = targets(n);
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= c) throw new IllegalArgumentException("label " + y + " of image " + i + " is outside [0, " + c + ")");
            Arrays.fill(t, i * c, (i + 1) * c, smoothing / c);
            t[i * c + y] += 1 - smoothing;
        }
        return lossAndGradient(images, n, masks);
    }

    /** As {@link #forward(INDArray, float[], DropPath.MaskSource)} without drop path; fails when the spec has a drop-path rate. */
    public double forward(INDArray images, float[] softTargets) { return forward(images, softTargets, null); }

    /**
     * Training forward with soft targets (mixup / cutmix): images [N,C,H,W], softTargets [N*classes] row-major,
     * each row a distribution; returns {@code mean_b sum_c -t[b,c] log softmax(logits[b])[c]}.
     * masks decides the drop-path samples (null only when the spec's drop-path rate is 0).
     */
    public double forward(INDArray images, float[] softTargets, DropPath.MaskSource masks) {
        int n = checkImages(images), c = spec.classes();
        if (softTargets.length != n * c) {
            throw new IllegalArgumentException("soft targets have " + softTargets.length + " values, expected N * classes = " + n + " * " + c);
        }
        double[] t = targets(n);
        for (int i = 0; i < t.length; i++) {
            float v = softTargets[i];
            if (!(v >= 0) || Float.isInfinite(v)) throw new IllegalArgumentException("soft target " + i + " (image " + i / c + ", class " + i % c + ") is " + v + "; targets must be finite and >= 0");
            t[i] = v;
        }
        return lossAndGradient(images, n, masks);
    }

    private double lossAndGradient(INDArray images, int n, DropPath.MaskSource masks) {
        if (masks == null && spec.dropPath() > 0) {
            throw new IllegalStateException("drop-path rate " + spec.dropPath() + " needs a mask source: call forward(..., DropPath.MaskSource.random(rng))");
        }
        haveForward = false;
        ensureTrain(n);
        Pass p = train;
        INDArray x = embed(images, p);
        for (TransformerBlock blk : blocks) x = blk.forward(x, n, 1 + cfg.numPatches(), masks, scratch);
        classify(x, p);
        int c = spec.classes();
        double[] z = hostLogits;
        readInto(p.logits, z);
        double[] t = hostTargets, g = hostGrad;
        double loss = 0;
        for (int i = 0; i < n; i++) {
            int o = i * c;
            double max = Double.NEGATIVE_INFINITY, mass = 0;
            for (int j = 0; j < c; j++) { max = Math.max(max, z[o + j]); mass += t[o + j]; }
            double sum = 0;
            for (int j = 0; j < c; j++) sum += Math.exp(z[o + j] - max);
            double logSum = Math.log(sum) + max;
            for (int j = 0; j < c; j++) {
                double logp = z[o + j] - logSum;
                loss -= t[o + j] * logp;
                g[o + j] = (Math.exp(logp) * mass - t[o + j]) / n;   // d/dz of -sum_j t_j log p_j
            }
        }
        k.load(g, p.dLogits);
        haveForward = true;
        return loss / n;
    }

    /** Adds d loss / d param of the last training forward to the gradients (call {@code params().zeroGrad()} first). */
    public void backward() {
        if (!haveForward) throw new IllegalStateException("backward() needs a training forward() first");
        Pass p = train;
        head.backward(p.dLogits, p.features, p.dFeatures, false);
        k.zero(p.dPooled);
        finalNorm.backward(p.dFeatures, p.pooled, p.mean, p.rstd, p.dPooled);
        k.zero(p.dres);
        if (spec.pooling() == Pooling.GLOBAL_AVERAGE) {
            k.scaleRowGroups(p.dPooled, invPatches, p.dPooled, false);
            k.copyRows(p.dPooled, p.sampleOfPatch, p.dres, p.rowsPatch, false);
        } else {
            k.copyRows(p.dPooled, p.identityN, p.dres, p.rowsCls, false);
        }
        // partial fine-tuning: nothing below the first trainable block needs a gradient, so its backward is skipped
        for (int i = blocks.length - 1; i >= firstTrainable; i--) blocks[i].backward(p.dres, scratch);
        if (spec.trainableBlocks() != Spec.ALL_BLOCKS) return;   // patch_embed, cls_token and pos_embed are frozen
        k.copyRows(p.dres, p.rowsCls, dcls, p.zeros, true);
        k.copyRows(p.dres, p.allRows, dpos, p.posOfRow, true);
        k.copyRows(p.dres, p.rowsPatch, p.demb, p.identityNL, false);
        patchEmbed.backward(p.demb, p.cols);
    }

    /** The last training forward's logits [N, classes] (a buffer of this model, valid until its next forward). */
    public INDArray lastLogits() { return requireTrain().logits; }

    /** The last training forward's head input before its norm [N, D]: the patch-token mean, or the cls token. */
    public INDArray lastPooled() { return requireTrain().pooled; }

    /** The last training forward's head input [N, D]: {@code fc_norm(pooled)} or {@code norm(cls)}. */
    public INDArray lastFeatures() { return requireTrain().features; }

    private Pass requireTrain() {
        if (!haveForward) throw new IllegalStateException("no training forward yet");
        return train;
    }

    // ------------------------------------------------------------------ evaluation

    /**
     * Class logits [N * classes], row-major, in evaluation mode (no drop path; the blocks share one set of
     * activations and the training forward's state, so {@link #backward}, is untouched).
     */
    public double[] logits(INDArray images) {
        int n = checkImages(images);
        if (inference == null || inference.n != n) {
            inference = new Pass(n, false);
            shared = new TransformerBlock.Activations(store.dataType(), n, 1 + cfg.numPatches(), cfg.encoder());
        }
        INDArray x = embed(images, inference);
        for (TransformerBlock blk : blocks) x = blk.infer(x, shared);
        classify(x, inference);
        double[] z = new double[n * spec.classes()];
        readInto(inference.logits, z);
        return z;
    }

    /** Predicted class per image, in evaluation mode. */
    public int[] predict(INDArray images) {
        double[] p = logits(images);
        int n = (int) images.size(0), c = spec.classes();
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < c; j++) if (p[i * c + j] > p[i * c + best]) best = j;
            r[i] = best;
        }
        return r;
    }

    // ------------------------------------------------------------------ the shared pieces

    /** Patch embedding of all L patches plus position rows, the cls token (plus pos_embed[0]) first: p.tokens [N*(1+L), D]. */
    private INDArray embed(INDArray images, Pass p) {
        k.patchify(images, cfg.patchSize(), p.cols, true);
        patchEmbed.forward(p.cols, p.emb);
        k.copyRows(p.emb, p.identityNL, p.tokens, p.rowsPatch, false);
        k.copyRows(pos, p.posOfPatch, p.tokens, p.rowsPatch, true);
        k.copyRows(cls, p.zeros, p.tokens, p.rowsCls, false);
        k.copyRows(pos, p.zeros, p.tokens, p.rowsCls, true);
        return p.tokens;
    }

    /** Encoder output x [N*(1+L), D] -> p.pooled, p.features [N, D] -> p.logits [N, classes]. */
    private void classify(INDArray x, Pass p) {
        if (spec.pooling() == Pooling.GLOBAL_AVERAGE) {
            k.zero(p.pooled);
            k.copyRows(x, p.rowsPatch, p.pooled, p.sampleOfPatch, true);
            k.scaleRowGroups(p.pooled, invPatches, p.pooled, false);
        } else {
            k.copyRows(x, p.rowsCls, p.pooled, p.identityN, false);
        }
        finalNorm.forward(p.pooled, p.features, p.mean, p.rstd);
        head.forward(p.features, p.logits);
    }

    private int checkImages(INDArray images) {
        long[] s = images.shape();
        if (s.length != 4 || s[0] < 1 || s[1] != cfg.channels() || s[2] != cfg.imageSize() || s[3] != cfg.imageSize()) {
            throw new IllegalArgumentException("images must be [N, " + cfg.channels() + ", " + cfg.imageSize() + ", " + cfg.imageSize()
                    + "], got " + Arrays.toString(s));
        }
        if (images.dataType() != store.dataType()) throw new IllegalArgumentException("images are " + images.dataType() + ", the model " + store.dataType());
        return (int) s[0];
    }

    private double[] targets(int n) {
        int len = n * spec.classes();
        if (hostTargets == null || hostTargets.length != len) {
            hostTargets = new double[len];
            hostLogits = new double[len];
            hostGrad = new double[len];
        }
        return hostTargets;
    }

    /** Copies an array's values (row-major) into dst without allocating native memory. */
    private static void readInto(INDArray a, double[] dst) {
        for (int i = 0; i < dst.length; i++) dst[i] = a.data().getDouble(i);
    }

    private void ensureTrain(int n) {
        if (train != null && train.n == n) return;
        train = new Pass(n, true);
        scratch = new TransformerBlock.Scratch(store.dataType(), n * (1 + cfg.numPatches()), cfg.encoder());
    }

    /** The buffers and row maps of one pass over n images (the backward's only for training). */
    private final class Pass {
        final int n;
        final INDArray cols, emb, tokens, pooled, features, mean, rstd, logits;   // [N*L, C*p*p], [N*L, D], [N*(1+L), D], [N, D] x2, [N] x2, [N, classes]
        final INDArray dLogits, dFeatures, dPooled, dres, demb;                    // training only
        final int[] rowsPatch, posOfPatch, sampleOfPatch, identityNL;            // per patch token, [N*L]
        final int[] rowsCls, zeros, identityN;                                    // per sample, [N]
        final int[] allRows, posOfRow;                                            // per token, [N*(1+L)]

        Pass(int n, boolean training) {
            this.n = n;
            int l = cfg.numPatches(), d = cfg.encoder().width(), t = 1 + l;
            DataType dt = store.dataType();
            cols = Nd4j.create(dt, (long) n * l, cfg.patchDim());
            emb = Nd4j.create(dt, (long) n * l, d);
            tokens = Nd4j.create(dt, (long) n * t, d);
            pooled = Nd4j.create(dt, n, d);
            features = Nd4j.create(dt, n, d);
            mean = Nd4j.create(dt, n);
            rstd = Nd4j.create(dt, n);
            logits = Nd4j.create(dt, n, spec.classes());
            dLogits = training ? Nd4j.create(dt, n, spec.classes()) : null;
            dFeatures = training ? Nd4j.create(dt, n, d) : null;
            dPooled = training ? Nd4j.create(dt, n, d) : null;
            dres = training ? Nd4j.create(dt, (long) n * t, d) : null;
            demb = training ? Nd4j.create(dt, (long) n * l, d) : null;
            rowsPatch = new int[n * l]; posOfPatch = new int[n * l]; sampleOfPatch = new int[n * l]; identityNL = new int[n * l];
            for (int b = 0; b < n; b++) {
                for (int j = 0; j < l; j++) {
                    int i = b * l + j;
                    rowsPatch[i] = b * t + 1 + j;
                    posOfPatch[i] = 1 + j;
                    sampleOfPatch[i] = b;
                    identityNL[i] = i;
                }
            }
            rowsCls = new int[n]; zeros = new int[n]; identityN = new int[n];
            for (int b = 0; b < n; b++) { rowsCls[b] = b * t; identityN[b] = b; }
            allRows = new int[n * t]; posOfRow = new int[n * t];
            for (int i = 0; i < n * t; i++) { allRows[i] = i; posOfRow[i] = i % t; }
        }
    }

    public MaeConfig config() { return cfg; }
    public Spec spec() { return spec; }
    public int classes() { return spec.classes(); }
    public ParamStore params() { return store; }
    public Kernels kernels() { return k; }

    /** The drop probability of each block's training forward (timm's linspace over depth). */
    public double[] dropPathRates() { return dropRates.clone(); }

    @Override public String toString() {
        return "VitClassifier[" + cfg.encoder() + ", " + spec.classes() + " classes, " + spec.pooling() + ", drop path " + spec.dropPath()
                + ", " + store.numTrainable() + " parameters]";
    }
}
