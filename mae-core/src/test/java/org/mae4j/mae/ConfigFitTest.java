package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.HfConfig;
import org.mae4j.io.NpyWeights;
import org.mae4j.io.Safetensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Every tensor's shape is checked against the config on load, in one line naming the file, the tensor and both shapes. */
class ConfigFitTest {
    private static final MaeConfig MICRO = MaeConfig.micro();   // 16 px, patch 4, 3 channels, encoder 32 x 2, decoder 16 x 1

    private static Map<String, INDArray> tensors(MaeConfig cfg) {
        ParamStore s = MaskedAutoencoder.create(cfg, new Random(1)).params();
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry e : s.entries()) t.put(e.name(), s.param(e.name()));
        return t;
    }

    private static String refusal(MaeConfig cfg, Map<String, INDArray> t) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        t.forEach((k, v) -> shapes.put(k, v.shape()));
        return assertThrows(IllegalArgumentException.class, () -> ConfigFit.check(cfg, shapes, "f")).getMessage();
    }

    @Test
    void eachKindOfMisfitIsNamed() {
        ConfigFit.checkTensors(MICRO, tensors(MICRO), "f");
        ConfigFit.checkStore(MICRO, MaskedAutoencoder.create(MICRO, new Random(3)).params(), "f");
        assertTrue(refusal(MICRO.withImageSize(20), tensors(MICRO)).startsWith("f: tensor pos_embed has shape [1, 17, 32], but its config (20 px"));
        MaeConfig deeper = new MaeConfig(16, 4, 3, new VitSpec(32, 3, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);
        assertTrue(refusal(deeper, tensors(MICRO)).startsWith("f: its encoder blocks end at blocks.1, but its config"), refusal(deeper, tensors(MICRO)));
        MaeConfig shallower = new MaeConfig(16, 4, 3, new VitSpec(32, 1, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);
        assertTrue(refusal(shallower, tensors(MICRO)).startsWith("f: tensor blocks.1."), refusal(shallower, tensors(MICRO)));
        MaeConfig decoderWider = new MaeConfig(16, 4, 3, new VitSpec(32, 2, 2, 4), new VitSpec(24, 1, 2, 4), 0.75, false, 1e-6);
        assertTrue(refusal(decoderWider, tensors(MICRO)).startsWith("f: tensor mask_token has shape [1, 1, 16]"), refusal(decoderWider, tensors(MICRO)));
        MaeConfig grey = new MaeConfig(16, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);
        assertTrue(refusal(grey, tensors(MICRO)).startsWith("f: tensor patch_embed.proj.weight has shape [32, 3, 4, 4]"), refusal(grey, tensors(MICRO)));
        Map<String, INDArray> classifier = tensors(MICRO);
        classifier.put("head.weight", Nd4j.zeros(DataType.FLOAT, 5, 31));
        assertTrue(refusal(MICRO, classifier).startsWith("f: tensor head.weight has shape [5, 31], but its config"), refusal(MICRO, classifier));
    }

    @Test
    void everyLoaderChecks(@TempDir Path dir) throws IOException {
        // a .npy folder with another preset, a safetensors file with a config.json that claims 20 px
        NpyWeights.save(MaskedAutoencoder.create(MICRO, new Random(2)).params(), dir.resolve("npy"));
        IOException npy = assertThrows(IOException.class, () -> PretrainedWeights.loadForInference(dir.resolve("npy"), MICRO.withImageSize(20)));
        assertTrue(npy.getMessage().startsWith(dir.resolve("npy") + ": tensor ") && npy.getMessage().contains("pos_embed has shape [1, 17, "), npy.getMessage());
        assertThrows(IOException.class, () -> PretrainedWeights.load(dir.resolve("npy"), MICRO.withImageSize(20)));
        Path st = dir.resolve("st/w.safetensors");
        java.nio.file.Files.createDirectories(st.getParent());
        Safetensors.write(st, tensors(MICRO), Map.of());
        HfConfig.write(MICRO.withImageSize(20), st.resolveSibling("config.json"));
        IOException hf = assertThrows(IOException.class, () -> PretrainedWeights.loadForInference(st, null));
        assertTrue(hf.getMessage().startsWith(st + ": tensor pos_embed has shape [1, 17, 32], but its config (20 px"), hf.getMessage());
        assertThrows(IOException.class, () -> org.mae4j.embed.Embedder.load(st));
        assertThrows(IllegalArgumentException.class, () -> org.mae4j.embed.Embedder.of(MICRO.withImageSize(20), tensors(MICRO), org.mae4j.config.Normalization.imagenet()));
    }
}
