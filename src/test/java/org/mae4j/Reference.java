package org.mae4j;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.io.Npy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** One recorded fixture of the reference PyTorch MAE (see resources/reference/README of ../shared). */
public record Reference(String name, Path dir, JsonNode manifest) {

    /** The fixture directory, copied into this repository (src/test/resources/reference). */
    public static Reference load(String name) {
        String root = System.getProperty("mae.reference.dir", "src/test/resources/reference");
        Path dir = Paths.get(root, name);
        try {
            return new Reference(name, dir, new ObjectMapper().readTree(Files.readAllBytes(dir.resolve("manifest.json"))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + dir + " (is mae.reference.dir set?)", e);
        }
    }

    /** The model configuration the fixture was recorded with. */
    public MaeConfig config() {
        JsonNode k = manifest.get("model_kwargs");
        double mlp = k.get("mlp_ratio").asDouble();
        return new MaeConfig(k.get("img_size").asInt(), k.get("patch_size").asInt(), k.get("in_chans").asInt(),
                new VitSpec(k.get("embed_dim").asInt(), k.get("depth").asInt(), k.get("num_heads").asInt(), mlp),
                new VitSpec(k.get("decoder_embed_dim").asInt(), k.get("decoder_depth").asInt(), k.get("decoder_num_heads").asInt(), mlp),
                manifest.get("mask_ratio").asDouble(), manifest.get("norm_pix_loss").asBoolean(), manifest.get("layer_norm_eps").asDouble());
    }

    public INDArray array(String relative) {
        try {
            return Npy.read(dir.resolve(relative.endsWith(".npy") ? relative : relative + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public double scalar(String relative) { return array(relative).getDouble(0); }

    public Path params() { return dir.resolve("params"); }
}
