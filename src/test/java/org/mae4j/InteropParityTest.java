package org.mae4j;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.io.NpyWeights;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.io.Safetensors;
import org.mae4j.io.WeightNames;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reference weights through safetensors files, with official and with HuggingFace ViTMAE names (q, k, v
 * split, and a HuggingFace config.json), must give the recorded outputs (rtol 1e-5, as ReferenceParityTest).
 */
class InteropParityTest {

    @ParameterizedTest
    @ValueSource(strings = {"micro-s1", "tiny-fmnist-s42"})
    void officialNamesInSafetensors(String fixture, @TempDir Path dir) throws IOException {
        Reference ref = Reference.load(fixture);
        Path file = dir.resolve("mae.safetensors");
        Safetensors.write(file, NpyWeights.read(ref.params()), Map.of("format", "pt"));
        check(ref, PretrainedWeights.load(file, ref.config()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"micro-s1", "tiny-fmnist-s42"})
    void huggingFaceNamesAndConfig(String fixture, @TempDir Path dir) throws IOException {
        Reference ref = Reference.load(fixture);
        Map<String, INDArray> hf = WeightNames.toHuggingFace(NpyWeights.read(ref.params()));
        assertTrue(hf.containsKey("vit.encoder.layer.0.attention.attention.query.weight"), "HF names: " + hf.keySet());
        Safetensors.write(dir.resolve("model.safetensors"), hf, Map.of("format", "pt"));
        MaeConfig c = ref.config();
        Files.writeString(dir.resolve("config.json"), String.format(Locale.ROOT, """
                {"model_type": "vit_mae", "image_size": %d, "patch_size": %d, "num_channels": %d,
                 "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "intermediate_size": %d,
                 "decoder_hidden_size": %d, "decoder_num_hidden_layers": %d, "decoder_num_attention_heads": %d,
                 "decoder_intermediate_size": %d, "mask_ratio": %s, "norm_pix_loss": %s, "layer_norm_eps": %s}""",
                c.imageSize(), c.patchSize(), c.channels(), c.encoder().width(), c.encoder().depth(), c.encoder().heads(),
                c.encoder().mlpHidden(), c.decoder().width(), c.decoder().depth(), c.decoder().heads(), c.decoder().mlpHidden(),
                c.maskRatio(), c.normPixLoss(), c.normEps()));
        PretrainedWeights.Loaded loaded = PretrainedWeights.load(dir, null);
        assertEquals(c, loaded.config(), "config read from the HuggingFace config.json");
        assertTrue(loaded.hasDecoder());
        check(ref, loaded);
    }

    @org.junit.jupiter.api.Test
    void encoderOnlyWeightsLoadForFeaturesAndAreRefusedForReconstruction(@TempDir Path dir) throws IOException {
        Reference ref = Reference.load("tiny-fmnist-s42");
        Map<String, INDArray> all = NpyWeights.read(ref.params());
        Map<String, INDArray> encoder = new java.util.LinkedHashMap<>();
        all.forEach((k, v) -> { if (!PretrainedWeights.isDecoder(k)) encoder.put(k, v); });
        assertTrue(encoder.size() < all.size() && encoder.containsKey("blocks.11.mlp.fc2.weight"), "decoder keys dropped: " + encoder.keySet());
        Path file = dir.resolve("encoder.safetensors");
        Safetensors.write(file, encoder, Map.of("format", "pt"));
        PretrainedWeights.Loaded w = PretrainedWeights.load(file, ref.config());
        assertFalse(w.hasDecoder());
        MaskedAutoencoder mae = new MaskedAutoencoder(w.config(), w.params(), new CpuKernels());
        Compare.assertClose("latent (encoder only)", mae.forward(ref.array("images"), ref.array("noise")).latent(), ref.array("latent"), 1e-5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.requireDecoder(file));
        assertTrue(e.getMessage().contains("encoder weights only") && e.getMessage().contains("encoder.safetensors"), e.getMessage());

        // Missing an encoder tensor is still an error that names it.
        encoder.remove("blocks.3.attn.proj.weight");
        Safetensors.write(file, encoder, Map.of("format", "pt"));
        IOException bad = assertThrows(IOException.class, () -> PretrainedWeights.load(file, ref.config()));
        assertTrue(bad.getMessage().contains("blocks.3.attn.proj.weight"), bad.getMessage());
    }

    private static void check(Reference ref, PretrainedWeights.Loaded w) {
        MaskedAutoencoder mae = new MaskedAutoencoder(w.config(), w.params(), new CpuKernels());
        MaeOutput out = mae.forward(ref.array("images"), ref.array("noise"));
        Compare.assertClose("latent", out.latent(), ref.array("latent"), 1e-5);
        Compare.assertClose("pred", out.pred(), ref.array("pred"), 1e-5);
        assertEquals(ref.scalar("loss"), out.loss(), 1e-5 * Math.abs(ref.scalar("loss")), "loss");
    }
}
