package org.mae4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A HuggingFace ViTMAE {@code config.json} as a {@link MaeConfig}. The LayerNorm epsilon comes from the
 * file ({@code layer_norm_eps}, 1e-12 in the published configs, not the official models' 1e-6).
 */
public final class HfConfig {
    private HfConfig() {}

    public static MaeConfig read(Path configJson) throws IOException {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException(configJson + ": not a readable JSON config: " + e.getMessage(), e);
        }
        try {
            int d = req(c, "hidden_size"), e = req(c, "decoder_hidden_size");
            return new MaeConfig(req(c, "image_size"), req(c, "patch_size"), req(c, "num_channels"),
                    new VitSpec(d, req(c, "num_hidden_layers"), req(c, "num_attention_heads"), (double) req(c, "intermediate_size") / d),
                    new VitSpec(e, req(c, "decoder_num_hidden_layers"), req(c, "decoder_num_attention_heads"), (double) req(c, "decoder_intermediate_size") / e),
                    c.path("mask_ratio").asDouble(0.75), c.path("norm_pix_loss").asBoolean(false), c.path("layer_norm_eps").asDouble(1e-12));
        } catch (IllegalArgumentException ex) {
            throw new IOException(configJson + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Writes cfg as a HuggingFace ViTMAE config.json (model_type vit_mae, ViTMAEForPreTraining), the inverse of
     * {@link #read}: the fields HF's ViTMAEConfig defines, with this model's LayerNorm eps.
     */
    public static void write(MaeConfig cfg, Path configJson) throws IOException {
        ObjectMapper m = new ObjectMapper();
        var n = m.createObjectNode();
        n.putArray("architectures").add("ViTMAEForPreTraining");
        n.put("model_type", "vit_mae");
        n.put("image_size", cfg.imageSize());
        n.put("patch_size", cfg.patchSize());
        n.put("num_channels", cfg.channels());
        n.put("hidden_size", cfg.encoder().width());
        n.put("num_hidden_layers", cfg.encoder().depth());
        n.put("num_attention_heads", cfg.encoder().heads());
        n.put("intermediate_size", cfg.encoder().mlpHidden());
        n.put("decoder_hidden_size", cfg.decoder().width());
        n.put("decoder_num_hidden_layers", cfg.decoder().depth());
        n.put("decoder_num_attention_heads", cfg.decoder().heads());
        n.put("decoder_intermediate_size", cfg.decoder().mlpHidden());
        n.put("hidden_act", "gelu");
        n.put("qkv_bias", true);
        n.put("layer_norm_eps", cfg.normEps());
        n.put("mask_ratio", cfg.maskRatio());
        n.put("norm_pix_loss", cfg.normPixLoss());
        n.put("hidden_dropout_prob", 0.0);
        n.put("attention_probs_dropout_prob", 0.0);
        n.put("initializer_range", 0.02);
        m.writerWithDefaultPrettyPrinter().writeValue(configJson.toFile(), n);
    }

    private static int req(JsonNode c, String field) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException("missing or non-integer field '" + field + "'");
        return v.asInt();
    }
}
