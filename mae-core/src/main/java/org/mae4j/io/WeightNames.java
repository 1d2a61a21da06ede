package org.mae4j.io;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two namings of MAE weights: the official one (facebookresearch/mae state_dict keys, used everywhere
 * in mae4j: {@code blocks.0.attn.qkv.weight}) and HuggingFace ViTMAE's ({@code vit.encoder.layer.0.attention.attention.query.weight},
 * separate q, k and v). Converting from HF fuses q, k, v into the official [3W, W] layout (rows q, then k,
 * then v); converting to HF splits them.
 */
public final class WeightNames {
    private WeightNames() {}

    private static final Pattern HF_LAYER = Pattern.compile("^(vit\\.encoder\\.layer|decoder\\.decoder_layers)\\.(\\d+)\\.(.+)$");
    private static final Map<String, String> HF_TOP = Map.ofEntries(
            Map.entry("vit.embeddings.cls_token", "cls_token"),
            Map.entry("vit.embeddings.position_embeddings", "pos_embed"),
            Map.entry("vit.embeddings.patch_embeddings.projection.weight", "patch_embed.proj.weight"),
            Map.entry("vit.embeddings.patch_embeddings.projection.bias", "patch_embed.proj.bias"),
            Map.entry("vit.layernorm.weight", "norm.weight"),
            Map.entry("vit.layernorm.bias", "norm.bias"),
            Map.entry("decoder.mask_token", "mask_token"),
            Map.entry("decoder.decoder_pos_embed", "decoder_pos_embed"),
            Map.entry("decoder.decoder_embed.weight", "decoder_embed.weight"),
            Map.entry("decoder.decoder_embed.bias", "decoder_embed.bias"),
            Map.entry("decoder.decoder_norm.weight", "decoder_norm.weight"),
            Map.entry("decoder.decoder_norm.bias", "decoder_norm.bias"),
            Map.entry("decoder.decoder_pred.weight", "decoder_pred.weight"),
            Map.entry("decoder.decoder_pred.bias", "decoder_pred.bias"));
    private static final Map<String, String> HF_BLOCK = Map.of(
            "layernorm_before", "norm1",
            "attention.output.dense", "attn.proj",
            "layernorm_after", "norm2",
            "intermediate.dense", "mlp.fc1",
            "output.dense", "mlp.fc2");

    /** True if the keys look like HuggingFace ViTMAE's (with or without the {@code vit.} prefix). */
    public static boolean isHuggingFace(Iterable<String> keys) {
        for (String k : keys) {
            if (k.startsWith("vit.") || k.startsWith("embeddings.") || k.startsWith("encoder.layer.") || k.startsWith("decoder.decoder_layers.")) return true;
        }
        return false;
    }

    /** HF-named tensors -> official names, q/k/v fused. Unknown keys fail with their names. */
    public static Map<String, INDArray> fromHuggingFace(Map<String, INDArray> hf) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        Map<String, INDArray[]> qkv = new LinkedHashMap<>();   // official prefix -> {q, k, v} weights or biases
        for (Map.Entry<String, INDArray> e : hf.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("vit.") && !key.startsWith("decoder.")) key = "vit." + key;   // ViTMAEModel has no vit. prefix
            String top = HF_TOP.get(key);
            if (top != null) { out.put(top, e.getValue()); continue; }
            Matcher m = HF_LAYER.matcher(key);
            if (!m.matches()) throw new IllegalArgumentException("unknown HuggingFace ViTMAE key '" + e.getKey() + "'");
            String block = (m.group(1).startsWith("vit") ? "blocks." : "decoder_blocks.") + m.group(2) + ".";
            String rest = m.group(3);
            Matcher a = Pattern.compile("^attention\\.attention\\.(query|key|value)\\.(weight|bias)$").matcher(rest);
            if (a.matches()) {
                int j = switch (a.group(1)) { case "query" -> 0; case "key" -> 1; default -> 2; };
                qkv.computeIfAbsent(block + "attn.qkv." + a.group(2), x -> new INDArray[3])[j] = e.getValue();
                continue;
            }
            int dot = rest.lastIndexOf('.');
            String mapped = HF_BLOCK.get(rest.substring(0, dot));
            if (mapped == null) throw new IllegalArgumentException("unknown HuggingFace ViTMAE key '" + e.getKey() + "'");
            out.put(block + mapped + rest.substring(dot), e.getValue());
        }
        for (Map.Entry<String, INDArray[]> e : qkv.entrySet()) {
            INDArray[] p = e.getValue();
            for (int j = 0; j < 3; j++) {
                if (p[j] == null) throw new IllegalArgumentException("'" + e.getKey() + "': the " + new String[] {"query", "key", "value"}[j] + " part is missing");
            }
            out.put(e.getKey(), Nd4j.concat(0, p[0], p[1], p[2]));
        }
        return out;
    }

    /** Official-named tensors -> HF ViTMAEForPreTraining names, the fused qkv split into query, key, value. */
    public static Map<String, INDArray> toHuggingFace(Map<String, INDArray> official) {
        Map<String, String> topInverse = new LinkedHashMap<>();
        HF_TOP.forEach((hf, off) -> topInverse.put(off, hf));
        Map<String, INDArray> out = new LinkedHashMap<>();
        Pattern blk = Pattern.compile("^(blocks|decoder_blocks)\\.(\\d+)\\.(.+)\\.(weight|bias)$");
        for (Map.Entry<String, INDArray> e : official.entrySet()) {
            String hf = topInverse.get(e.getKey());
            if (hf != null) { out.put(hf, e.getValue()); continue; }
            Matcher m = blk.matcher(e.getKey());
            if (!m.matches()) throw new IllegalArgumentException("unknown official MAE key '" + e.getKey() + "'");
            String prefix = (m.group(1).equals("blocks") ? "vit.encoder.layer." : "decoder.decoder_layers.") + m.group(2) + ".";
            String part = m.group(3), kind = m.group(4);
            if (part.equals("attn.qkv")) {
                INDArray[] parts = splitRows(e.getKey(), e.getValue());
                String[] names = {"query", "key", "value"};
                for (int j = 0; j < 3; j++) out.put(prefix + "attention.attention." + names[j] + "." + kind, parts[j]);
                continue;
            }
            String hfPart = null;
            for (Map.Entry<String, String> b : HF_BLOCK.entrySet()) if (b.getValue().equals(part)) hfPart = b.getKey();
            if (hfPart == null) throw new IllegalArgumentException("unknown official MAE key '" + e.getKey() + "'");
            out.put(prefix + hfPart + "." + kind, e.getValue());
        }
        return out;
    }

    /**
     * The fused [3W, ...] tensor as three new [W, ...] arrays (rows q, k, v), same dtype. The rows are copied
     * through a Java array, not sliced with NDArrayIndex: on a view into a ParamStore's flat buffer at a
     * non-zero offset, ND4J 1.0.0-M2.1's interval slicing returned empty arrays for k and v (all but
     * tinyFmnist's layout), so the export wrote nothing.
     */
    static INDArray[] splitRows(String key, INDArray fused) {
        long[] shape = fused.shape();
        if (shape.length < 1 || shape[0] % 3 != 0 || shape[0] == 0) {
            throw new IllegalArgumentException("'" + key + "' has shape " + Arrays.toString(shape) + ", expected [3W, ...] (q, k, v rows)");
        }
        double[] all = fused.dup('c').reshape(fused.length()).toDoubleVector();   // exact for float, half and double
        int part = all.length / 3;
        long[] partShape = shape.clone();
        partShape[0] = shape[0] / 3;
        INDArray[] out = new INDArray[3];
        for (int j = 0; j < 3; j++) {
            out[j] = Nd4j.createFromArray(Arrays.copyOfRange(all, j * part, (j + 1) * part)).castTo(fused.dataType()).reshape('c', partShape);
        }
        return out;
    }
}
