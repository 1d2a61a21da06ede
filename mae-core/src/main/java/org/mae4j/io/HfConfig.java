package org.mae4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;

import java.io.IOException;
import java.nio.file.Files;
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
            c = new ObjectMapper().readTree(Files.readAllBytes(configJson));
        } catch (JsonProcessingException e) {
            // getOriginalMessage: getMessage adds the location on a second line
            throw new IOException(configJson + ": not a valid JSON config: " + FileProblems.excerpt(e.getOriginalMessage(), 200), e);
        } catch (IOException e) {
            throw FileProblems.reading(configJson, e);
        }
        if (c == null || !c.isObject()) throw new IOException(configJson + ": not a JSON object (a HuggingFace config.json is one)");
        try {
            // Bounds before the config's own checks: they keep its arithmetic (patches per image, divisor lists
            // in messages) away from int overflow, and no real ViTMAE comes near them.
            int size = req(c, "image_size", 1, 8192), patch = req(c, "patch_size", 1, 8192), ch = req(c, "num_channels", 1, 4096);
            int d = req(c, "hidden_size", 1, 1 << 16), e = req(c, "decoder_hidden_size", 1, 1 << 16);
            VitSpec enc = new VitSpec(d, req(c, "num_hidden_layers", 0, 4096), req(c, "num_attention_heads", 1, d),
                    mlpRatio(req(c, "intermediate_size", 1, 1 << 20), d));
            VitSpec dec = new VitSpec(e, req(c, "decoder_num_hidden_layers", 0, 4096), req(c, "decoder_num_attention_heads", 1, e),
                    mlpRatio(req(c, "decoder_intermediate_size", 1, 1 << 20), e));
            return new MaeConfig(size, patch, ch, enc, dec, number(c, "mask_ratio", 0.75), bool(c, "norm_pix_loss", false),
                    number(c, "layer_norm_eps", 1e-12));
        } catch (IllegalArgumentException ex) {
            throw new IOException(configJson + ": " + FileProblems.oneLine(ex.getMessage()), ex);
        }
    }

    /**
     * The MLP ratio r with {@code (int) (width * r) == hidden}, which is how VitSpec derives the hidden width.
     * hidden / width alone is not always it: 60 / 44 * 44 is 59.99999999999999 in doubles, which made a 44-wide
     * model with a 60-wide MLP load as 59 wide.
     */
    static double mlpRatio(int hidden, int width) {
        double r = (double) hidden / width;
        while ((int) (width * r) < hidden) r = Math.nextUp(r);
        return r;
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
        byte[] bytes = m.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
        AtomicFiles.write(configJson, os -> os.write(bytes));
    }

    private static int req(JsonNode c, String field, int min, int max) {
        JsonNode v = c.get(field);
        if (v == null || !v.isIntegralNumber()) throw new IllegalArgumentException("missing or non-integer field '" + field + "'");
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw new IllegalArgumentException("field '" + field + "' is " + FileProblems.excerpt(v.asText(), 30) + ", expected " + min + ".." + max);
        }
        return v.asInt();
    }

    private static double number(JsonNode c, String field, double absent) {
        JsonNode v = c.get(field);
        if (v == null) return absent;
        if (!v.isNumber()) throw new IllegalArgumentException("field '" + field + "' is not a number");
        return v.asDouble();
    }

    private static boolean bool(JsonNode c, String field, boolean absent) {
        JsonNode v = c.get(field);
        if (v == null) return absent;
        if (!v.isBoolean()) throw new IllegalArgumentException("field '" + field + "' is not true or false");
        return v.asBoolean();
    }
}
