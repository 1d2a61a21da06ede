package org.mae4j.mae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.mae4j.io.HfConfig;
import org.mae4j.io.NpyWeights;
import org.mae4j.io.Safetensors;
import org.mae4j.io.WeightNames;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Loads MAE weights from wherever they come from: a mae4j checkpoint ({@code .zip}), a directory of
 * {@code <key>.npy} files, a {@code .safetensors} file with official or HuggingFace names, or a HuggingFace
 * model directory ({@code config.json} + {@code model.safetensors}). The config comes from the checkpoint or
 * the HuggingFace config.json when there is one, else from the caller.
 */
public final class PretrainedWeights {
    private PretrainedWeights() {}

    /**
     * The config and the float32 parameters. {@code hasDecoder} is false for encoder-only weights (the official
     * {@code mae_pretrain_vit_*.pth}, HuggingFace {@code ViTMAEModel}): their decoder keeps a fresh reference
     * initialisation, fine for {@code encode()}, meaningless for reconstructions.
     */
    public record Loaded(MaeConfig config, ParamStore params, boolean hasDecoder) {
        /** A model over these weights on the default kernels for this backend. */
        public MaskedAutoencoder model() {
            return new MaskedAutoencoder(config, params, MaskedAutoencoder.defaultKernels(params.dataType()));
        }

        /** Fails with a message naming the source if the decoder was not in the weights. */
        public Loaded requireDecoder(Object source) {
            if (!hasDecoder) throw encoderOnly(source);
            return this;
        }
    }

    private static IllegalArgumentException encoderOnly(Object source) {
        return new IllegalArgumentException(source + " holds encoder weights only, but this needs the decoder too (use a full "
                + "pretraining checkpoint: a mae4j checkpoint, the official mae_visualize_vit_*.pth, or HuggingFace ViTMAEForPreTraining)");
    }

    /**
     * What a source holds, to be written out again under official names ({@code ./mae export}): a fine-tuned
     * classifier's tensors exactly as trained (the reference's finetune keys: {@code fc_norm} and {@code head},
     * and no {@code norm} with global pooling, as models_vit.VisionTransformer's state_dict), else the model
     * {@link #load} gives: position tables included, the decoder only when the source has one (an encoder-only
     * source's decoder would be a random initialisation).
     *
     * @param classifier true for a fine-tuned classifier: not an MAE, so it has no HuggingFace ViTMAE form
     */
    public record Exportable(MaeConfig config, Map<String, INDArray> tensors, boolean hasDecoder, boolean classifier) {
        public Exportable { tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors)); }

        /** As {@link Loaded#requireDecoder}. */
        public Exportable requireDecoder(Object source) {
            if (!hasDecoder) throw encoderOnly(source);
            return this;
        }
    }

    public static Exportable forExport(Path source, MaeConfig fallback) throws IOException {
        Loaded w;
        if (isCheckpoint(source)) {
            Checkpoint.Contents c = ConfigFit.loadCheckpoint(source);
            if (c.kind().equals("finetune")) {
                Map<String, INDArray> t = new LinkedHashMap<>();
                for (ParamStore.Entry e : c.params().entries()) t.put(e.name(), c.params().param(e.name()));
                return new Exportable(c.config(), t, false, true);
            }
            w = fromCheckpoint(c, source);
        } else {
            w = load(source, fallback);
        }
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry e : w.params().entries()) {
            if (w.hasDecoder() || !isDecoder(e.name())) t.put(e.name(), w.params().param(e.name()));
        }
        return new Exportable(w.config(), t, w.hasDecoder(), false);
    }

    private static boolean isCheckpoint(Path source) {
        return Files.isRegularFile(source) && source.toString().endsWith(".zip");
    }

    public static Loaded load(Path source, MaeConfig fallback) throws IOException {
        if (isCheckpoint(source)) return fromCheckpoint(ConfigFit.loadCheckpoint(source), source);
        return loadFile(source, fallback);
    }

    /**
     * As {@link #load}, for the frozen-feature protocols (k-NN, linear probe): a fine-tuned classifier checkpoint is
     * refused, since its encoder view (the final norm the identity, no fc_norm) gives features that are neither the
     * classifier's own (fc_norm of the mean patch token: {@code Embedder}'s) nor a pretrained encoder's.
     */
    public static Loaded loadForFeatures(Path source, MaeConfig fallback) throws IOException {
        if (!isCheckpoint(source)) return loadFile(source, fallback);
        Checkpoint.Contents c = ConfigFit.loadCheckpoint(source);
        if (c.kind().equals("finetune")) {
            throw new IOException(source + " is a fine-tuned classifier: k-NN and the linear probe score a pretrained encoder's frozen features, "
                    + "which its encoder without its fc_norm would only imitate; embed its features with ./mae embed, or score it with ./mae finetune --eval");
        }
        return fromCheckpoint(c, source);
    }

    private static Loaded fromCheckpoint(Checkpoint.Contents c, Path source) throws IOException {
        {
            switch (c.kind()) {
                case "pretrain", "weights" -> { return new Loaded(c.config(), c.params(), true); }
                case "finetune" -> {
                    // the classifier's encoder: a global-pool head has no final norm (fc_norm follows the pooling
                    // instead), so the MAE's norm is the identity there; Embedder uses fc_norm for MEAN pooling
                    Map<String, INDArray> t = new LinkedHashMap<>();
                    for (ParamStore.Entry e : c.params().entries()) {
                        if (!e.name().startsWith("head.") && !e.name().startsWith("fc_norm.")) t.put(e.name(), c.params().param(e.name()));
                    }
                    int d = c.config().encoder().width();
                    t.putIfAbsent("norm.weight", org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, d));
                    t.putIfAbsent("norm.bias", org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, d));
                    return fromMap(t, c.config(), source.toString());
                }
                case "linprobe" -> throw new IOException(source + " holds a linear probe's head only; its encoder's weights are "
                        + c.provenance().getOrDefault("encoder_weights", "not recorded"));
                default -> throw new IOException(source + ": unknown kind of checkpoint '" + c.kind() + "'");
            }
        }
    }

    private static Loaded loadFile(Path source, MaeConfig fallback) throws IOException {
        Path safetensors = null, hfConfig = null;
        if (Files.isDirectory(source)) {
            if (Files.isRegularFile(source.resolve("model.safetensors"))) {
                safetensors = source.resolve("model.safetensors");
                if (Files.isRegularFile(source.resolve("config.json"))) hfConfig = source.resolve("config.json");
            } else {
                return fromMap(NpyWeights.read(source), require(fallback, source), source.toString());
            }
        } else if (Files.isRegularFile(source) && source.toString().endsWith(".safetensors")) {
            safetensors = source;
            Path beside = source.resolveSibling("config.json");
            if (Files.isRegularFile(beside)) hfConfig = beside;
        } else {
            throw new IOException("weights not found or of unknown kind: " + source + " (expected a .zip checkpoint, a .safetensors file, "
                    + "a HuggingFace model directory or a directory of .npy files)");
        }
        Map<String, INDArray> tensors = Safetensors.read(safetensors).tensors();
        if (WeightNames.isHuggingFace(tensors.keySet())) {
            try {
                tensors = WeightNames.fromHuggingFace(tensors);
            } catch (IllegalArgumentException e) {
                throw new IOException(safetensors + ": " + e.getMessage(), e);
            }
        }
        MaeConfig cfg = hfConfig != null ? HfConfig.read(hfConfig) : require(fallback, source);
        return fromMap(tensors, cfg, safetensors.toString());
    }

    /**
     * What inference needs from a source, with nothing filled in: the tensors under official keys exactly as
     * stored (the encoder's; a pretraining source's decoder; a fine-tuned classifier's {@code fc_norm} and
     * {@code head} instead of {@code norm}), the config, and, when the source records them, the input
     * normalization and preferred image size.
     *
     * @param normalization null when the source does not say
     * @param imageSize     the input size the source's preprocessing asks for (HuggingFace
     *                      {@code preprocessor_config.json}), else the config's
     */
    public record Inference(MaeConfig config, Map<String, INDArray> tensors, Normalization normalization, int imageSize, String source) {
        public Inference {
            tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            if (imageSize < 1) throw new IllegalArgumentException(source + ": image size must be positive, got " + imageSize);
        }
    }

    /**
     * Reads any source {@link #load} accepts without building a model, so that sources whose tensors do not
     * fit the pretraining layout (fine-tuned classifiers: {@code fc_norm} and {@code head}, no {@code norm})
     * load too. {@code fallback} is used only when the source carries no config.
     */
    public static Inference loadForInference(Path source, MaeConfig fallback) throws IOException {
        if (Files.isRegularFile(source) && source.toString().endsWith(".zip")) {
            Checkpoint.Contents c = ConfigFit.loadCheckpoint(source);
            Map<String, INDArray> t = new LinkedHashMap<>();
            if (c.kind().equals("linprobe")) {
                throw new IOException(source + " holds a linear probe's head only; its encoder's weights are " + c.provenance().getOrDefault("encoder_weights", "not recorded"));
            }
            for (ParamStore.Entry e : c.params().entries()) t.put(e.name(), c.params().param(e.name()));
            return new Inference(c.config(), t, checkpointNormalization(c, source), c.config().imageSize(), source.toString());
        }
        Path safetensors = null, hfConfig = null, dir;
        if (Files.isDirectory(source)) {
            dir = source;
            if (Files.isRegularFile(source.resolve("model.safetensors"))) {
                safetensors = source.resolve("model.safetensors");
                if (Files.isRegularFile(source.resolve("config.json"))) hfConfig = source.resolve("config.json");
            }
        } else if (Files.isRegularFile(source) && source.toString().endsWith(".safetensors")) {
            safetensors = source;
            dir = source.toAbsolutePath().getParent();
            if (Files.isRegularFile(source.resolveSibling("config.json"))) hfConfig = source.resolveSibling("config.json");
        } else {
            throw new IOException("weights not found or of unknown kind: " + source + " (expected a .zip checkpoint, a .safetensors file, "
                    + "a HuggingFace model directory or a directory of .npy files)");
        }
        Map<String, INDArray> tensors;
        if (safetensors == null) {
            tensors = NpyWeights.read(source);
        } else {
            tensors = Safetensors.read(safetensors).tensors();
            if (WeightNames.isHuggingFace(tensors.keySet())) {
                try {
                    tensors = WeightNames.fromHuggingFace(tensors);
                } catch (IllegalArgumentException e) {
                    throw new IOException(safetensors + ": " + e.getMessage(), e);
                }
            }
        }
        MaeConfig cfg = hfConfig != null ? HfConfig.read(hfConfig) : require(fallback, source);
        requireFit(cfg, tensors, safetensors != null ? safetensors : source);
        Path pre = dir == null ? null : dir.resolve("preprocessor_config.json");
        if (pre != null && Files.isRegularFile(pre)) {
            Preprocessor p = readPreprocessor(pre, cfg);
            return new Inference(cfg, tensors, p.normalization(), p.imageSize() > 0 ? p.imageSize() : cfg.imageSize(), source.toString());
        }
        return new Inference(cfg, tensors, null, cfg.imageSize(), source.toString());
    }


    /**
     * The normalization a mae4j checkpoint was trained with, or null when it does not record one. Today it is
     * read from the free-form {@code provenance.normalization} that {@code ./mae pretrain} writes
     * ("mean [0.286], std [0.353]"); when checkpoints store it as a structured field, read that field here:
     * this is the only place that knows where a checkpoint keeps it.
     */
    /** The normalization a checkpoint records (structured since format 2; v1's provenance text is parsed by Checkpoint). */
    static Normalization checkpointNormalization(Checkpoint.Contents c, Path source) throws IOException {
        Normalization n = c.normalization();
        if (n != null && n.channels() != c.config().channels()) {
            throw new IOException(source + ": the recorded normalization has " + n.channels() + " channels, the model " + c.config().channels());
        }
        return n;
    }

    private record Preprocessor(Normalization normalization, int imageSize) {}

    /**
     * HuggingFace's {@code preprocessor_config.json}: {@code image_mean}/{@code image_std} (null when absent),
     * and the square side from {@code crop_size} when it crops, else {@code size} (a number, {height, width}
     * or {shortest_edge}); 0 when none is given or the size is not square.
     */
    private static Preprocessor readPreprocessor(Path file, MaeConfig cfg) throws IOException {
        JsonNode p;
        try {
            p = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not readable JSON: " + e.getMessage(), e);
        }
        Normalization norm = null;
        JsonNode mean = p.get("image_mean"), std = p.get("image_std");
        if (mean != null && std != null) {
            try {
                norm = new Normalization(floatArray(mean, file, "image_mean"), floatArray(std, file, "image_std"));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
            if (norm.channels() != cfg.channels()) {
                throw new IOException(file + ": image_mean/image_std have " + norm.channels() + " values, the model has " + cfg.channels() + " channels");
            }
        }
        JsonNode size = p.path("do_center_crop").asBoolean(false) && p.has("crop_size") ? p.get("crop_size") : p.get("size");
        return new Preprocessor(norm, squareSide(size));
    }

    private static float[] floatArray(JsonNode a, Path file, String field) throws IOException {
        if (!a.isArray() || a.size() == 0) throw new IOException(file + ": '" + field + "' must be a non-empty list of numbers");
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            if (!a.get(i).isNumber()) throw new IOException(file + ": '" + field + "'[" + i + "] is not a number");
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }

    private static int squareSide(JsonNode size) {
        if (size == null) return 0;
        if (size.canConvertToInt()) return size.asInt();
        if (size.has("shortest_edge")) return size.get("shortest_edge").asInt();
        int h = size.path("height").asInt(0), w = size.path("width").asInt(0);
        return h == w ? h : 0;
    }

    private static MaeConfig require(MaeConfig cfg, Path source) throws IOException {
        if (cfg == null) throw new IOException(source + " carries no model config: name one (e.g. --preset maeVitBasePatch16)");
        return cfg;
    }

    /** Refuses tensors that are not of the model cfg describes, naming the source, the tensor and both shapes. */
    private static void requireFit(MaeConfig cfg, Map<String, INDArray> tensors, Object source) throws IOException {
        try {
            ConfigFit.checkTensors(cfg, tensors, source);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static Loaded fromMap(Map<String, INDArray> tensors, MaeConfig cfg, String source) throws IOException {
        requireFit(cfg, tensors, source);
        ParamStore store = MaskedAutoencoder.layout(cfg).build(DataType.FLOAT);
        MaeInit.initialize(store, cfg, new Random(0));   // fills the fixed position tables when the file has none
        Map<String, INDArray> cast = new LinkedHashMap<>();
        tensors.forEach((k, v) -> cast.put(k, v.dataType() == DataType.FLOAT ? v : v.castTo(DataType.FLOAT)));
        // Encoder-only weights: every decoder tensor absent. Anything else missing is an error setAll reports.
        boolean hasDecoder = store.entries().stream().anyMatch(e -> isDecoder(e.name()) && cast.containsKey(e.name()));
        try {
            if (hasDecoder) {
                store.setAll(cast, source);
            } else {
                Map<String, INDArray> withDecoder = new LinkedHashMap<>(cast);
                for (ParamStore.Entry e : store.entries()) if (isDecoder(e.name())) withDecoder.put(e.name(), store.param(e.name()).dup());
                store.setAll(withDecoder, source);
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return new Loaded(cfg, store, hasDecoder);
    }

    /** Tensors of the decoder (dropped from encoder-only releases). */
    public static boolean isDecoder(String key) {
        return key.equals("mask_token") || key.startsWith("decoder_");
    }

    /** Writes a model's tensors with official names (position tables included) so PyTorch can load them. */
    public static void exportSafetensors(ParamStore store, Path file, Map<String, String> metadata) throws IOException {
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry e : store.entries()) t.put(e.name(), store.param(e.name()));
        Safetensors.write(file, t, metadata);
    }
}
