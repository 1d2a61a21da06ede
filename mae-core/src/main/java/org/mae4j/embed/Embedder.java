package org.mae4j.embed;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.EvalTransform;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaeEncoder;
import org.mae4j.mae.MaskSample;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PositionTables;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.nn.LayerNorm;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pretrained (or fine-tuned) MAE encoder as an image-to-vector function: one call from pictures, image
 * files or normalised arrays to one D-dimensional vector per image, the way HuggingFace's {@code ViTMAEModel}
 * or timm's {@code forward_head(pre_logits=True)} are used.
 *
 * <pre>
 *   Embedder e = Embedder.load(Path.of("runs/pretrain/checkpoint.zip"));
 *   float[] v = e.embed(ImageIO.read(new File("shoe.png")));          // [D]
 *   float[][] vs = e.withPooling(Embedder.Pooling.MEAN).embedFiles(files); // [N][D]
 * </pre>
 *
 * <p>The input normalization and image size come from the weights (see {@link #load(Path)}). Pictures of any
 * size, grey or colour, are converted as {@link EvalTransform} documents. Images go through the encoder without
 * masking, in internal batches of at most {@link #batchSize()} images.
 *
 * <p><b>Thread-safe.</b> One instance may be shared by any number of threads and gives the same vectors as
 * single-threaded use: the parameters are shared and only read; each calling thread gets its own encoder
 * activations (allocated on its first call, sized for one internal batch, kept for that thread's later calls
 * and released with the thread or the embedder). The returned arrays are new and belong to the caller.
 * The {@code with...} methods return new embedders; {@code withPooling} and {@code withBatchSize} share the
 * parameters, {@code withImageSize} holds its own copy (the position table differs).
 */
public final class Embedder {

    /** How the encoder's tokens become one vector. */
    public enum Pooling {
        /**
         * The cls token after the encoder's final norm (row 0 of {@link MaskedAutoencoder#encode}): what the
         * reference's linear probe feeds its classifier ({@code global_pool=False}).
         */
        CLS,
        /**
         * The mean of the L patch tokens (cls excluded). For pretraining weights: the mean of rows 1..L of
         * {@link MaskedAutoencoder#encode} (after the final norm). For a global-pool fine-tuned classifier
         * (weights with {@code fc_norm}): {@code fc_norm} of the mean of the last block's patch tokens, the
         * input of the reference's classification head ({@code global_pool=True}).
         */
        MEAN
    }

    /** Images per internal batch unless {@link #withBatchSize} says otherwise. */
    public static final int DEFAULT_BATCH = 64;

    private final Engine engine;
    private final Pooling pooling;
    private final int batch;

    private Embedder(Engine engine, Pooling pooling, int batch) {
        this.engine = engine;
        this.pooling = pooling;
        this.batch = batch;
    }

    /**
     * Loads weights from any source {@link PretrainedWeights} reads: a mae4j checkpoint ({@code .zip}), a
     * {@code .safetensors} file (official or HuggingFace names, with {@code config.json} beside it), a
     * HuggingFace model folder, including fine-tuned classifiers ({@code fc_norm} and {@code head}). The
     * normalization is the one the weights record (a mae4j checkpoint's, a HuggingFace folder's
     * {@code preprocessor_config.json} {@code image_mean}/{@code image_std}), else the library's default for the
     * channel count (Fashion-MNIST's for 1, ImageNet's for 3); the image size is the preprocessor's when it gives
     * one, else the model's.
     *
     * @throws IOException when the weights are missing, unreadable, carry no config, or do not fit their config
     */
    public static Embedder load(Path weights) throws IOException {
        return load(weights, null, null);
    }

    /**
     * As {@link #load(Path)} for sources that lack a config or a normalization (a folder of {@code .npy}, a bare
     * {@code .safetensors}): {@code config} and {@code normalization} are used only where the weights carry none
     * (either may be null).
     */
    public static Embedder load(Path weights, MaeConfig config, Normalization normalization) throws IOException {
        Objects.requireNonNull(weights, "weights");
        PretrainedWeights.Inference w = PretrainedWeights.loadForInference(weights, config);
        Normalization norm = w.normalization() != null ? w.normalization()
                : normalization != null ? normalization : defaultNormalization(w.config(), weights);
        Embedder e;
        try {
            e = of(w.config(), w.tensors(), norm);
        } catch (IllegalArgumentException ex) {
            throw new IOException(weights + ": " + ex.getMessage(), ex);
        }
        if (w.imageSize() == w.config().imageSize()) return e;
        try {
            return e.withImageSize(w.imageSize());
        } catch (IllegalArgumentException ex) {
            throw new IOException(weights + ": its preprocessing asks for " + w.imageSize() + " px images: " + ex.getMessage(), ex);
        }
    }

    private static Normalization defaultNormalization(MaeConfig cfg, Path weights) throws IOException {
        try {
            return Normalization.defaultFor(cfg.channels());
        } catch (IllegalArgumentException e) {
            throw new IOException(weights + " records no normalization and " + e.getMessage(), e);
        }
    }

    /**
     * An embedder over weights already in memory, by official key: the encoder's tensors ({@code cls_token},
     * {@code patch_embed.*}, {@code blocks.*}, {@code pos_embed}, which may be absent for the fixed sin-cos
     * table) with {@code norm.*} and/or {@code fc_norm.*}; decoder, {@code mask_token} and {@code head.*} tensors
     * are ignored. The tensors are copied. Default pooling: CLS when the weights have the final norm, MEAN for a
     * global-pool classifier (only {@code fc_norm}).
     *
     * @throws IllegalArgumentException when a tensor is missing, unknown, of the wrong shape, or not finite
     */
    public static Embedder of(MaeConfig config, Map<String, INDArray> tensors, Normalization normalization) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(normalization, "normalization");
        if (normalization.channels() != config.channels()) {
            throw new IllegalArgumentException("the normalization has " + normalization.channels() + " channels, the model " + config.channels());
        }
        org.mae4j.mae.ConfigFit.checkTensors(config, tensors, "the weights");   // other position tables than the config's are not resized silently
        Engine e = Engine.build(config.withMaskRatio(0), tensors, null, normalization);
        return new Embedder(e, e.hasNorm ? Pooling.CLS : Pooling.MEAN, DEFAULT_BATCH);
    }

    /** As {@link #of(MaeConfig, Map, Normalization)} over a model's parameter store (e.g. a model just trained). */
    public static Embedder of(MaeConfig config, ParamStore params, Normalization normalization) {
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry en : params.entries()) t.put(en.name(), params.param(en.name()));
        return of(config, t, normalization);
    }

    /**
     * The same weights pooled another way.
     *
     * @throws IllegalArgumentException for CLS on weights without the encoder's final norm (a global-pool
     *                                  classifier, whose cls token was never trained to summarise the image)
     */
    public Embedder withPooling(Pooling p) {
        Objects.requireNonNull(p, "pooling");
        if (p == Pooling.CLS && !engine.hasNorm) {
            throw new IllegalArgumentException("CLS pooling needs the encoder's final norm, but these weights are a global-pool classifier "
                    + "(fc_norm, no norm): use MEAN");
        }
        return new Embedder(engine, p, batch);
    }

    /**
     * The same weights for images of px x px: a fixed sin-cos position table is regenerated for the new patch
     * grid, a learned one (fine-tuned) is resampled bicubically as the reference's {@code interpolate_pos_embed}
     * does (see {@link PositionTables}), always from the weights' own table.
     *
     * @throws IllegalArgumentException when px is not a positive multiple of the patch size
     */
    public Embedder withImageSize(int px) {
        if (px == engine.cfg.imageSize()) return this;
        MaeConfig c = engine.cfg.withImageSize(px);
        checkFits(c, 1);   // before the tables are built: a size past the machine's memory crashed the JVM
        return new Embedder(Engine.build(c, engine.tensorsForResize(), engine.sourcePos, engine.norm), pooling, batch);
    }

    /** The same embedder cutting its work into internal batches of at most n images (memory per thread grows with n). */
    public Embedder withBatchSize(int n) {
        if (n < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + n);
        return new Embedder(engine, pooling, n);
    }

    /** Refuses an image size and batch whose buffers this machine cannot hold, before any of them is allocated. */
    private static void checkFits(MaeConfig c, int batch) {
        org.mae4j.train.MemoryNeed.checkInference(c, batch, "image size " + c.imageSize() + " px" + (batch == 1 ? "" : " in batches of " + batch),
                "use a smaller image size or batch");
    }

    /** D, the length of every vector. */
    public int dimension() { return engine.cfg.encoder().width(); }
    /** The side, in pixels, of the square images the encoder sees. */
    public int imageSize() { return engine.cfg.imageSize(); }
    /** Channels of the images the encoder sees (1 grey, 3 RGB). */
    public int channels() { return engine.cfg.channels(); }
    /** The input normalization applied to pictures (and expected of arrays given to {@link #embed(INDArray)}). */
    public Normalization normalization() { return engine.norm; }
    public Pooling pooling() { return pooling; }
    public int batchSize() { return batch; }
    /** The encoder's config at this embedder's image size. */
    public MaeConfig config() { return engine.cfg; }

    /** One picture (any size, grey or colour) to its vector [D]. */
    public float[] embed(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        return embed(List.of(image))[0];
    }

    /** Pictures to vectors [N][D], in order. */
    public float[][] embed(List<BufferedImage> images) {
        Objects.requireNonNull(images, "images");
        if (images.isEmpty()) throw new IllegalArgumentException("no images given");
        return run(images.size(), (i, dst, off) -> {
            BufferedImage img = images.get(i);
            if (img == null) throw new IllegalArgumentException("image " + i + " is null");
            engine.transform.apply(img, dst, off);
        });
    }

    /**
     * Already normalised images [N, C, H, W] (H = W = {@link #imageSize()}, the normalization of
     * {@link #normalization()} applied) to vectors [N][D]. Any floating dtype; the array is not changed.
     */
    public float[][] embed(INDArray images) {
        Objects.requireNonNull(images, "images");
        long[] s = images.shape();
        int c = channels(), sz = imageSize();
        if (s.length != 4 || s[1] != c || s[2] != sz || s[3] != sz) {
            throw new IllegalArgumentException("images must be [N, " + c + ", " + sz + ", " + sz + "] for this embedder, got " + Arrays.toString(s)
                    + (s.length == 4 && s[1] == c && s[2] == s[3] ? " (use withImageSize(" + s[2] + ") for that size)" : ""));
        }
        if (s[0] < 1) throw new IllegalArgumentException("images: empty batch");
        if (!images.dataType().isFPType()) throw new IllegalArgumentException("images must be floating point, got " + images.dataType());
        requireFinite(images, "images");
        int n = (int) s[0];
        float[][] out = new float[n][];
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch);
            INDArray chunk = images.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                    .castTo(DataType.FLOAT).dup('c');
            float[][] v = engine.worker().embed(chunk, pooling);
            System.arraycopy(v, 0, out, from, v.length);
        }
        return out;
    }

    /**
     * Image files (whatever javax.imageio decodes: PNG, JPEG, BMP, GIF) to vectors [N][D], in order. Files are
     * decoded one internal batch at a time, so memory does not grow with the list.
     *
     * @throws IOException naming the file that does not exist or cannot be decoded
     */
    public float[][] embedFiles(List<Path> files) throws IOException {
        Objects.requireNonNull(files, "files");
        if (files.isEmpty()) throw new IllegalArgumentException("no image files given");
        try {
            return run(files.size(), (i, dst, off) -> {
                try {
                    engine.transform.apply(EvalTransform.read(files.get(i)), dst, off);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @FunctionalInterface
    private interface Source { void fill(int index, float[] dst, int offset); }

    private float[][] run(int n, Source src) {
        checkFits(engine.cfg, Math.min(n, batch));   // the largest batch this call builds
        int len = channels() * imageSize() * imageSize();
        float[][] out = new float[n][];
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch), nb = to - from;
            float[] buf = new float[nb * len];
            for (int i = 0; i < nb; i++) src.fill(from + i, buf, i * len);
            INDArray chunk = Nd4j.create(buf, new long[] {nb, channels(), imageSize(), imageSize()}, DataType.FLOAT);
            float[][] v = engine.worker().embed(chunk, pooling);
            System.arraycopy(v, 0, out, from, nb);
        }
        return out;
    }

    private static void requireFinite(INDArray a, String what) {
        if (Double.isFinite(a.sumNumber().doubleValue())) return;   // one native reduction; NaN and Inf propagate
        double[] v = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException(what + " hold a non-finite value (" + v[i] + " at flat index " + i + " of shape "
                        + Arrays.toString(a.shape()) + ")");
            }
        }
    }

    @Override public String toString() {
        return "Embedder[" + engine.cfg.encoder() + ", " + imageSize() + "px x " + channels() + ", " + pooling + ", D=" + dimension()
                + (engine.hasFcNorm ? ", fc_norm" : "") + ", " + engine.norm + "]";
    }

    /**
     * The parameters at one image size, shared by every thread and every pooling, and each thread's own
     * encoder (its inference buffers) over them.
     */
    private static final class Engine {
        final MaeConfig cfg;
        final ParamStore store;       // cls_token, pos_embed, patch_embed, blocks, norm, [fc_norm]; read only
        final INDArray sourcePos;     // the weights' own table [1, 1+L0, D], the source of every resize
        final boolean hasNorm, hasFcNorm;
        final Normalization norm;
        final EvalTransform transform;
        final Kernels kernels;
        // A worker must not reach its ThreadLocal (through this engine), or a long-lived thread would keep every
        // embedder it ever used alive; it gets the shared pieces only.
        private final ThreadLocal<Worker> workers;

        private Engine(MaeConfig cfg, ParamStore store, INDArray sourcePos, boolean hasNorm, boolean hasFcNorm, Normalization norm) {
            this.cfg = cfg;
            this.store = store;
            this.sourcePos = sourcePos;
            this.hasNorm = hasNorm;
            this.hasFcNorm = hasFcNorm;
            this.norm = norm;
            this.transform = new EvalTransform(cfg.imageSize(), norm);
            Kernels k = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
            this.kernels = k;
            this.workers = ThreadLocal.withInitial(() -> new Worker(cfg, k, store, hasFcNorm));
        }

        Worker worker() { return workers.get(); }

        /** Every tensor but the position table, for a resize. */
        Map<String, INDArray> tensorsForResize() {
            Map<String, INDArray> t = new LinkedHashMap<>();
            for (ParamStore.Entry e : store.entries()) {
                if (e.name().equals("pos_embed")) continue;
                if ((e.name().startsWith("norm.") && !hasNorm) || (e.name().startsWith("fc_norm.") && !hasFcNorm)) continue;
                t.put(e.name(), store.param(e.name()));
            }
            return t;
        }

        /**
         * Copies the tensors into an encoder store for cfg. sourcePos: the table to resize (null: the tensors'
         * pos_embed, or the sin-cos table of cfg's grid when they have none).
         */
        static Engine build(MaeConfig cfg, Map<String, INDArray> tensors, INDArray sourcePos, Normalization norm) {
            boolean hasNorm = tensors.containsKey("norm.weight") || tensors.containsKey("norm.bias");
            boolean hasFcNorm = tensors.containsKey("fc_norm.weight") || tensors.containsKey("fc_norm.bias");
            if (!hasNorm && !hasFcNorm) {
                throw new IllegalArgumentException("the weights have neither the encoder's final norm (norm.weight, norm.bias) nor a "
                        + "classifier's fc_norm: nothing to embed with");
            }
            int d = cfg.encoder().width();
            ParamStore.Builder b = ParamStore.builder();
            b.add("cls_token", true, 1, 1, d);
            b.add("pos_embed", false, 1, 1 + cfg.numPatches(), d);
            MaeEncoder.declare(b, cfg);   // includes norm.*, left at zero and unused when the weights have only fc_norm
            if (hasFcNorm) b.add("fc_norm.weight", true, d).add("fc_norm.bias", true, d);
            ParamStore store = b.build(DataType.FLOAT);

            List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), badShape = new ArrayList<>();
            for (ParamStore.Entry e : store.entries()) {
                if (e.name().equals("pos_embed") || (e.name().startsWith("norm.") && !hasNorm)) continue;
                INDArray v = tensors.get(e.name());
                if (v == null) missing.add(e.name());
                else if (!Arrays.equals(e.shape(), v.shape())) {
                    badShape.add(e.name() + " (config " + Arrays.toString(e.shape()) + ", weights " + Arrays.toString(v.shape()) + ")");
                }
            }
            for (String k : tensors.keySet()) {
                if (!store.contains(k) && !PretrainedWeights.isDecoder(k) && !k.startsWith("head.")) unexpected.add(k);
            }
            if (sourcePos == null) sourcePos = tensors.get("pos_embed");
            if (sourcePos != null && (sourcePos.rank() != 3 || sourcePos.size(0) != 1 || sourcePos.size(2) != d)) {
                badShape.add("pos_embed (" + Arrays.toString(sourcePos.shape()) + ", expected [1, 1+L, " + d + "])");
            }
            if (!missing.isEmpty() || !unexpected.isEmpty() || !badShape.isEmpty()) {
                throw new IllegalArgumentException("weights do not fit the config " + cfg.encoder() + ", patch " + cfg.patchSize() + ", "
                        + cfg.channels() + " channel(s): missing " + missing + ", unexpected " + unexpected + ", shape mismatch " + badShape);
            }
            for (ParamStore.Entry e : store.entries()) {
                if (e.name().equals("pos_embed") || !tensors.containsKey(e.name())) continue;
                store.set(e.name(), tensors.get(e.name()));
            }
            if (sourcePos == null) sourcePos = org.mae4j.mae.SinCosPosEmbed.table(d, cfg.gridSize(), DataType.FLOAT).reshape('c', 1, 1 + cfg.numPatches(), d);
            store.set("pos_embed", PositionTables.forGrid(sourcePos.castTo(DataType.FLOAT), cfg.gridSize()));
            INDArray flat = store.flatParams();
            if (!Double.isFinite(flat.sumNumber().doubleValue())) {
                for (ParamStore.Entry e : store.entries()) {
                    if (!Double.isFinite(store.param(e.name()).sumNumber().doubleValue())) {
                        throw new IllegalArgumentException("the weights' tensor " + e.name() + " holds NaN or infinite values");
                    }
                }
            }
            return new Engine(cfg, store, sourcePos.castTo(DataType.FLOAT).dup('c'), hasNorm, hasFcNorm, norm);
        }
    }

    /** One thread's encoder over the shared parameters, and its pooling buffers. */
    private static final class Worker {
        private final MaeConfig cfg;
        private final MaeEncoder encoder;
        private final LayerNorm fcNorm;   // null when the weights have none
        private int n = -1;
        private INDArray pooled, features, mean, rstd;   // [n, D], [n, D], [n], [n]

        Worker(MaeConfig cfg, Kernels k, ParamStore store, boolean hasFcNorm) {
            this.cfg = cfg;
            this.encoder = new MaeEncoder(cfg, k, store);
            this.fcNorm = hasFcNorm ? new LayerNorm(k, store, "fc_norm", cfg.normEps()) : null;
        }

        /** images [n, C, S, S] float32, c order -> vectors [n][D]. */
        float[][] embed(INDArray images, Embedder.Pooling p) {
            int nb = (int) images.size(0), l = cfg.numPatches(), d = cfg.encoder().width(), t = 1 + l;
            MaskSample all = MaskSample.keepAll(nb, l);
            boolean viaFcNorm = p == Pooling.MEAN && fcNorm != null;
            INDArray tokens = viaFcNorm ? encoder.inferBlocks(images, all) : encoder.infer(images, all);   // [n*(1+L), D]
            float[] tok = tokens.data().asFloat();
            float[][] out = new float[nb][d];
            for (int b = 0; b < nb; b++) {
                int base = b * t * d;
                if (p == Pooling.CLS) {
                    System.arraycopy(tok, base, out[b], 0, d);
                } else {
                    for (int c = 0; c < d; c++) {
                        double s = 0;
                        for (int r = 1; r < t; r++) s += tok[base + r * d + c];
                        out[b][c] = (float) (s / l);
                    }
                }
            }
            if (viaFcNorm) {
                if (nb != n) {
                    n = nb;
                    pooled = Nd4j.create(DataType.FLOAT, nb, d);
                    features = Nd4j.create(DataType.FLOAT, nb, d);
                    mean = Nd4j.create(DataType.FLOAT, nb);
                    rstd = Nd4j.create(DataType.FLOAT, nb);
                }
                float[] flat = new float[nb * d];
                for (int b = 0; b < nb; b++) System.arraycopy(out[b], 0, flat, b * d, d);
                pooled.data().setData(flat);
                fcNorm.forward(pooled, features, mean, rstd);
                float[] f = features.data().asFloat();
                for (int b = 0; b < nb; b++) System.arraycopy(f, b * d, out[b], 0, d);
            }
            for (int b = 0; b < nb; b++) {
                for (int c = 0; c < d; c++) {
                    if (!Float.isFinite(out[b][c])) {
                        throw new IllegalStateException("the embedding of image " + b + " of a batch is not finite (" + out[b][c]
                                + " at component " + c + "): the weights overflow on this input");
                    }
                }
            }
            return out;
        }
    }
}
