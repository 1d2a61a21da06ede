package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
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
            if (!hasDecoder) {
                throw new IllegalArgumentException(source + " holds encoder weights only, but this needs the decoder too (use a full "
                        + "pretraining checkpoint: a mae4j checkpoint, the official mae_visualize_vit_*.pth, or HuggingFace ViTMAEForPreTraining)");
            }
            return this;
        }
    }

    public static Loaded load(Path source, MaeConfig fallback) throws IOException {
        if (Files.isRegularFile(source) && source.toString().endsWith(".zip")) {
            Checkpoint.Contents c = Checkpoint.load(source);
            return new Loaded(c.config(), c.params(), true);
        }
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

    private static MaeConfig require(MaeConfig cfg, Path source) throws IOException {
        if (cfg == null) throw new IOException(source + " carries no model config: name one (e.g. --preset maeVitBasePatch16)");
        return cfg;
    }

    private static Loaded fromMap(Map<String, INDArray> tensors, MaeConfig cfg, String source) throws IOException {
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
