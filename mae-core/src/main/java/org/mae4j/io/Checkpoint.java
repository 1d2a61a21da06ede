package org.mae4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A training checkpoint: one zip file with {@code manifest.json} (format version, library version, model
 * config, training state, optimizer settings, the tensor list, free-form provenance) and one {@code .npy}
 * per tensor under {@code params/} by state_dict key, plus the AdamW moments under {@code optimizer/}.
 * Zip CRCs are checked on read. Writes go to a temporary file in the same directory, are flushed to disk,
 * then renamed over the target, so a crash mid-write never destroys the previous checkpoint.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static final String FORMAT = "mae4j-checkpoint";
    public static final int FORMAT_VERSION = 1;
    public static final String LIBRARY_VERSION = "0.1.0-SNAPSHOT";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint holds; optimizer fields are null for weights-only checkpoints. */
    public record Contents(MaeConfig config, ParamStore params, TrainingState state, AdamW.Hyper optimizer,
                           INDArray firstMoments, INDArray secondMoments, Map<String, String> provenance) {}

    /** Saves model, optimizer (may be null) and state atomically to file. */
    public static void save(Path file, MaskedAutoencoder model, AdamW optimizer, TrainingState state, Map<String, String> provenance)
            throws IOException {
        MaeConfig cfg = model.config();
        ParamStore store = model.params();
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("library_version", LIBRARY_VERSION);
        m.put("created", Instant.now().toString());
        m.set("config", configJson(cfg));
        ObjectNode st = m.putObject("state");
        st.put("epoch", state.epoch());
        st.put("step", state.step());
        st.put("micro_step", state.microStep());
        st.put("seed", state.seed());
        if (optimizer != null) {
            ObjectNode o = m.putObject("optimizer");
            o.put("name", "AdamW");
            o.put("beta1", optimizer.hyper().beta1());
            o.put("beta2", optimizer.hyper().beta2());
            o.put("eps", optimizer.hyper().eps());
            o.put("weight_decay", optimizer.hyper().weightDecay());
            o.put("steps", optimizer.stepCount());
        }
        ArrayNode tensors = m.putArray("tensors");
        for (ParamStore.Entry e : store.entries()) {
            ObjectNode t = tensors.addObject();
            t.put("name", e.name());
            ArrayNode shape = t.putArray("shape");
            for (long s : e.shape()) shape.add(s);
            t.put("trainable", e.trainable());
        }
        ObjectNode prov = m.putObject("provenance");
        if (provenance != null) provenance.forEach(prov::put);

        AtomicFiles.write(file, os -> {
            try (ZipOutputStream zip = new ZipOutputStream(os)) {
                put(zip, "manifest.json", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
                for (ParamStore.Entry e : store.entries()) put(zip, "params/" + e.name() + ".npy", Npy.toBytes(store.param(e.name())));
                if (optimizer != null) {
                    put(zip, "optimizer/exp_avg.npy", Npy.toBytes(optimizer.firstMoments()));
                    put(zip, "optimizer/exp_avg_sq.npy", Npy.toBytes(optimizer.secondMoments()));
                }
            }
        });
    }

    private static void put(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }

    /** Reads a checkpoint; every tensor of the manifest must be present with its shape, nothing else. */
    public static Contents load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("checkpoint not found: " + file);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (InputStream is = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(is)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                zip.transferTo(b);
                entries.put(e.getName(), b.toByteArray());
            }
        } catch (IOException e) {
            throw new IOException(file + " is not a readable checkpoint (corrupt or truncated zip): " + e.getMessage(), e);
        }
        byte[] manifestBytes = entries.get("manifest.json");
        if (manifestBytes == null) throw new IOException(file + " is not a mae4j checkpoint: no manifest.json");
        JsonNode m;
        try {
            m = JSON.readTree(manifestBytes);
        } catch (IOException e) {
            throw new IOException(file + ": manifest.json is not valid JSON: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(m.path("format").asText())) throw new IOException(file + ": not a mae4j checkpoint (format '" + m.path("format").asText() + "')");
        int version = m.path("format_version").asInt(-1);
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IOException(file + ": checkpoint format version " + version + " is not supported by mae4j " + LIBRARY_VERSION
                    + " (supported: 1.." + FORMAT_VERSION + ")");
        }
        MaeConfig cfg = configFrom(m.get("config"), file);
        ParamStore store = MaskedAutoencoder.layout(cfg).build(DataType.FLOAT);
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>();
        for (ParamStore.Entry e : store.entries()) if (!entries.containsKey("params/" + e.name() + ".npy")) missing.add(e.name());
        for (String name : entries.keySet()) {
            if (name.startsWith("params/") && !store.contains(name.substring(7, name.length() - 4))) unexpected.add(name.substring(7));
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IOException(file + ": tensors do not fit the saved config: missing " + missing + ", unexpected " + unexpected);
        }
        for (ParamStore.Entry e : store.entries()) {
            String name = "params/" + e.name() + ".npy";
            INDArray v = Npy.fromBytes(entries.get(name), file + "!" + name);
            try {
                store.set(e.name(), v);
            } catch (IllegalArgumentException ex) {
                throw new IOException(file + "!" + name + ": " + ex.getMessage(), ex);
            }
        }
        JsonNode st = m.get("state");
        TrainingState state = new TrainingState(st.path("epoch").asInt(), st.path("step").asLong(), st.path("micro_step").asLong(), st.path("seed").asLong());
        AdamW.Hyper hyper = null;
        INDArray m1 = null, m2 = null;
        JsonNode o = m.get("optimizer");
        if (o != null) {
            hyper = new AdamW.Hyper(o.get("beta1").asDouble(), o.get("beta2").asDouble(), o.get("eps").asDouble(), o.get("weight_decay").asDouble());
            byte[] a = entries.get("optimizer/exp_avg.npy"), b = entries.get("optimizer/exp_avg_sq.npy");
            if (a == null || b == null) throw new IOException(file + ": optimizer section present but its moments are missing");
            m1 = Npy.fromBytes(a, file + "!optimizer/exp_avg.npy");
            m2 = Npy.fromBytes(b, file + "!optimizer/exp_avg_sq.npy");
            if (m1.length() != store.numScalars() || m2.length() != store.numScalars()) {
                throw new IOException(file + ": optimizer moments have " + m1.length() + "/" + m2.length() + " values, the model " + store.numScalars());
            }
        }
        Map<String, String> prov = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.path("provenance").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            prov.put(e.getKey(), e.getValue().asText());
        }
        return new Contents(cfg, store, state, hyper, m1, m2, prov);
    }

    static ObjectNode configJson(MaeConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("image_size", c.imageSize());
        n.put("patch_size", c.patchSize());
        n.put("channels", c.channels());
        n.set("encoder", vitJson(c.encoder()));
        n.set("decoder", vitJson(c.decoder()));
        n.put("mask_ratio", c.maskRatio());
        n.put("norm_pix_loss", c.normPixLoss());
        n.put("norm_eps", c.normEps());
        return n;
    }

    private static ObjectNode vitJson(VitSpec v) {
        ObjectNode n = JSON.createObjectNode();
        n.put("width", v.width());
        n.put("depth", v.depth());
        n.put("heads", v.heads());
        n.put("mlp_ratio", v.mlpRatio());
        return n;
    }

    static MaeConfig configFrom(JsonNode n, Path file) throws IOException {
        if (n == null) throw new IOException(file + ": manifest has no config");
        try {
            return new MaeConfig(req(n, "image_size").asInt(), req(n, "patch_size").asInt(), req(n, "channels").asInt(),
                    vitFrom(req(n, "encoder")), vitFrom(req(n, "decoder")), req(n, "mask_ratio").asDouble(),
                    req(n, "norm_pix_loss").asBoolean(), req(n, "norm_eps").asDouble());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": invalid config in manifest: " + e.getMessage(), e);
        }
    }

    private static VitSpec vitFrom(JsonNode n) {
        return new VitSpec(req(n, "width").asInt(), req(n, "depth").asInt(), req(n, "heads").asInt(), req(n, "mlp_ratio").asDouble());
    }

    private static JsonNode req(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new IllegalArgumentException("missing field '" + field + "' in " + n);
        return v;
    }
}
