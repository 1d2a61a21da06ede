package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Backends;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Random;

/**
 * The MAE of He et al. (2021), as facebookresearch/mae's {@code MaskedAutoencoderViT}: encoder on the
 * visible patches, lightweight decoder with a shared mask token, MSE on the removed patches.
 * Parameters live in one {@link ParamStore} under the reference's state_dict keys.
 *
 * <pre>
 *   MaskedAutoencoder mae = MaskedAutoencoder.create(MaeConfig.tinyFmnist(), new Random(0));
 *   MaeOutput o = mae.forward(images, noise);   // images [N,C,H,W], noise [N,L]
 *   mae.params().zeroGrad(); mae.backward();    // gradients in mae.params().grad(key)
 * </pre>
 * Not thread-safe; one instance per training thread.
 */
public final class MaskedAutoencoder {
    private final MaeConfig cfg;
    private final ParamStore store;
    private final Kernels kernels;
    private final MaeEncoder encoder;
    private final MaeDecoder decoder;
    private final MaskedPatchLoss loss;
    private INDArray dLatent;
    private MaskSample lastMask;
    // [N, L, P] / [N, 1+K, D] views of the loss's and encoder's 2-D buffers, made once per buffer: a view
    // costs a native shape buffer, and a warm training step allocates nothing.
    private INDArray predRows, predView, latentRows, latentView;

    /** A model over an existing store (e.g. loaded weights) computing with the given kernels. */
    public MaskedAutoencoder(MaeConfig cfg, ParamStore store, Kernels kernels) {
        this.cfg = cfg;
        this.store = store;
        this.kernels = kernels;
        this.encoder = new MaeEncoder(cfg, kernels, store);
        this.decoder = new MaeDecoder(cfg, kernels, store);
        this.loss = new MaskedPatchLoss(cfg, kernels, store.dataType());
    }

    /** A float32 model with the reference initialisation, on the fastest kernels for this backend. */
    public static MaskedAutoencoder create(MaeConfig cfg, Random rng) {
        return create(cfg, DataType.FLOAT, defaultKernels(DataType.FLOAT), rng);
    }

    public static MaskedAutoencoder create(MaeConfig cfg, DataType dtype, Kernels kernels, Random rng) {
        ParamStore store = layout(cfg).build(dtype);
        MaeInit.initialize(store, cfg, rng);
        return new MaskedAutoencoder(cfg, store, kernels);
    }

    /** The system property that picks the kernels: {@code auto} (default), {@code fast} or {@code portable}. */
    public static final String KERNELS_PROPERTY = "mae4j.kernels";
    /** The environment variable read when {@value #KERNELS_PROPERTY} is not set; same values. */
    public static final String KERNELS_ENV = "MAE4J_KERNELS";

    /**
     * CpuKernels for float32 on the CPU backend, the portable Nd4jKernels otherwise; {@value #KERNELS_PROPERTY}
     * or {@value #KERNELS_ENV} = {@code portable} forces the portable path (e.g. to check it on the CPU, or to be
     * sure a GPU run computes on the GPU), {@code fast} demands the fast path (an error where it cannot run).
     */
    public static Kernels defaultKernels(DataType dtype) {
        return defaultKernels(dtype, kernelsRequest());
    }

    /** The requested kernels: {@value #KERNELS_PROPERTY}, else {@value #KERNELS_ENV}, else "auto". */
    public static String kernelsRequest() { return kernelsRequest(System::getenv); }

    /** The requested kernels ("auto", "fast" or "portable") from the property, else the environment, else "auto". */
    static String kernelsRequest(java.util.function.UnaryOperator<String> env) {
        String p = System.getProperty(KERNELS_PROPERTY);
        if (p != null && !p.isBlank()) return p.trim();
        String e = env.apply(KERNELS_ENV);
        return e != null && !e.isBlank() ? e.trim() : "auto";
    }

    /** As {@link #defaultKernels(DataType)} for an explicit request: auto, fast or portable. */
    public static Kernels defaultKernels(DataType dtype, String request) {
        boolean fastPossible = dtype == DataType.FLOAT && Backends.isCpu();
        switch (request.toLowerCase(java.util.Locale.ROOT)) {
            case "auto": return fastPossible ? new CpuKernels() : new Nd4jKernels();
            case "portable": return new Nd4jKernels();
            case "fast":
                if (!fastPossible) {
                    throw new IllegalArgumentException("kernels 'fast' need float32 on ND4J's CPU backend; this is " + dtype + " on "
                            + Backends.name() + " (use auto or portable)");
                }
                return new CpuKernels();
            default:
                throw new IllegalArgumentException("kernels must be auto, fast or portable (" + KERNELS_PROPERTY + " / " + KERNELS_ENV + "), got '" + request + "'");
        }
    }

    /** Every tensor of the model under its reference state_dict key, in the reference's order. */
    public static ParamStore.Builder layout(MaeConfig c) {
        ParamStore.Builder b = ParamStore.builder();
        int l = c.numPatches(), d = c.encoder().width(), e = c.decoder().width();
        b.add("cls_token", true, 1, 1, d);
        b.add("pos_embed", false, 1, 1 + l, d);
        b.add("mask_token", true, 1, 1, e);
        b.add("decoder_pos_embed", false, 1, 1 + l, e);
        MaeEncoder.declare(b, c);
        MaeDecoder.declare(b, c);
        return b;
    }

    /** Forward with masking driven by noise [N, L] (small noise = kept), as the reference's {@code forward}. */
    public MaeOutput forward(INDArray images, INDArray noise) {
        checkImages(images);
        if (noise.rank() != 2 || noise.size(0) != images.size(0) || noise.size(1) != cfg.numPatches()) {
            throw new IllegalArgumentException("noise must be [N, L] = [" + images.size(0) + ", " + cfg.numPatches()
                    + "], got " + Arrays.toString(noise.shape()));
        }
        return forward(images, RandomMasking.fromNoise(noise, cfg.maskRatio()));
    }

    /** Forward with masking sampled from the caller's generator. */
    public MaeOutput forward(INDArray images, Random rng) {
        checkImages(images);
        return forward(images, RandomMasking.sample((int) images.size(0), cfg.numPatches(), cfg.maskRatio(), rng));
    }

    /** Forward with an explicit mask sample. */
    public MaeOutput forward(INDArray images, MaskSample m) {
        checkImages(images);
        this.lastMask = m;
        int n = (int) images.size(0), l = cfg.numPatches();
        INDArray latent = encoder.forward(images, m);
        INDArray out = decoder.forward(latent, m);
        double value = loss.forward(images, out, m);
        if (loss.pred() != predRows) { predRows = loss.pred(); predView = predRows.reshape('c', n, l, cfg.patchDim()); }
        if (latent != latentRows) { latentRows = latent; latentView = latent.reshape('c', n, 1 + m.k(), cfg.encoder().width()); }
        return new MaeOutput(value, predView, loss.mask(), latentView, m);
    }

    /** Adds d loss / d param of the last forward into the gradient buffer (call {@code params().zeroGrad()} first). */
    public void backward() {
        if (lastMask == null) throw new IllegalStateException("backward() needs a forward() first");
        long rows = (long) lastMask.n() * (1 + lastMask.k());
        if (dLatent == null || dLatent.size(0) != rows) dLatent = Nd4j.create(store.dataType(), rows, cfg.encoder().width());
        decoder.backward(loss.gradient(), dLatent);
        encoder.backward(dLatent);
    }

    /**
     * Encoder features of every patch, no masking: [N, 1+L, D] after the final norm (cls first); a view, dup()
     * to keep. Inference only: it keeps no activations and leaves the last forward() (and backward()) alone.
     */
    public INDArray encode(INDArray images) {
        checkImages(images);
        int n = (int) images.size(0), l = cfg.numPatches();
        return encoder.infer(images, MaskSample.keepAll(n, l)).reshape('c', n, 1 + l, cfg.encoder().width());
    }

    /**
     * {@link #encode(INDArray)}, also handing every encoder block's output [N*(1+L), D] (before the final norm,
     * valid only during the call) to tap: for features from intermediate blocks. images [N,C,H,W] -> [N, 1+L, D].
     */
    public INDArray encode(INDArray images, MaeEncoder.BlockTap tap) {
        checkImages(images);
        int n = (int) images.size(0), l = cfg.numPatches();
        return encoder.infer(images, MaskSample.keepAll(n, l), tap).reshape('c', n, 1 + l, cfg.encoder().width());
    }

    private void checkImages(INDArray images) {
        long[] s = images.shape();
        int sz = cfg.imageSize();
        if (s.length != 4 || s[1] != cfg.channels() || s[2] != sz || s[3] != sz) {
            throw new IllegalArgumentException("images must be [N, " + cfg.channels() + ", " + sz + ", " + sz + "] for this config, got "
                    + Arrays.toString(s));
        }
        if (s[0] < 1) throw new IllegalArgumentException("images: empty batch");
    }

    public MaeConfig config() { return cfg; }
    public ParamStore params() { return store; }
    public Kernels kernels() { return kernels; }
    /** patchify(images) of the last forward, [N*L, P]. */
    public INDArray lastTarget() { return loss.target(); }
}
