package org.mae4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.config.VitSpec;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A checkpoint of any mae4j model: one zip file (readable by {@code numpy.load} as an npz) holding one
 * {@code .npy} per tensor ({@code params/<key>.npy} by state_dict key, {@code optimizer/<buffer>.npy} for the
 * optimizer's flat state) and, last, {@code manifest.json}: format, kind of job, model config and head,
 * normalization, training state, optimizer, the run's options, provenance, and per tensor its shape and the
 * CRC32C of its data, which loading verifies. Tensors stream through a small buffer with {@code long} sizes
 * (ZIP64 past 4 GB), so a model of any size saves without heap copies; the write is atomic
 * ({@link AtomicFiles}). Format version 1 (mae4j before the one engine) still loads.
 *
 * <p>This package knows nothing of models or training loops: callers describe their job in {@link Contents}.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static final String FORMAT = "mae4j-checkpoint";
    public static final int FORMAT_VERSION = 2;
    public static final String LIBRARY_VERSION = "0.1.0-SNAPSHOT";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MANIFEST = "manifest.json";

    /**
     * Where a run stands. All of a run's randomness is a pure function of the seed and these counters, so they
     * are its whole random state.
     *
     * @param epoch       epochs completed
     * @param step        optimizer steps taken
     * @param microStep   forward/backward passes taken
     * @param samplesSeen training samples consumed (global, over all processes)
     * @param seed        the run's seed
     */
    public record State(int epoch, long step, long microStep, long samplesSeen, long seed) {
        public State {
            if (epoch < 0 || step < 0 || microStep < 0 || samplesSeen < 0) {
                throw new IllegalArgumentException("negative counters: epoch " + epoch + ", step " + step + ", micro step " + microStep + ", samples " + samplesSeen);
            }
        }
    }

    /** An optimizer's name, hyper-parameters, update count and flat state buffers (the parameters' layout). */
    public record OptimizerState(String name, Map<String, Double> hyper, long steps, Map<String, INDArray> buffers) {
        public OptimizerState {
            Objects.requireNonNull(name, "name");
            hyper = Map.copyOf(hyper);
            buffers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(buffers));
        }
    }

    /**
     * What a checkpoint holds.
     *
     * @param kind          the job that wrote it: "pretrain", "finetune", "linprobe", or "weights"
     * @param config        the MAE config of the encoder (and decoder, for pretraining)
     * @param model         the rest of the model's description (head: classes, pooling, ...), as strings
     * @param normalization what the inputs were normalized with (null when unknown: old checkpoints)
     * @param params        every tensor by key, with its trainable flag
     * @param state         where the run stands (null for weights only)
     * @param optimizer     the optimizer (null for weights only)
     * @param options       the run's recipe, for resuming it (batch, lr, epochs, ...), as strings
     * @param provenance    free facts: library version, git commit, kernels, command line, data
     * @param formatVersion the version it was read from ({@link #FORMAT_VERSION} when built here)
     */
    public record Contents(String kind, MaeConfig config, Map<String, String> model, Normalization normalization,
                           ParamStore params, State state, OptimizerState optimizer, Map<String, String> options,
                           Map<String, String> provenance, int formatVersion) {
        public Contents {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(params, "params");
            model = model == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(model));
            options = options == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(options));
            provenance = provenance == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
            if ((state == null) != (optimizer == null)) throw new IllegalArgumentException("a checkpoint has both a training state and an optimizer, or neither");
        }

        /** Weights only (no training state or optimizer): for export, tests, and models built outside a run. */
        public static Contents weights(String kind, MaeConfig config, Map<String, String> model, Normalization normalization,
                                       ParamStore params, Map<String, String> provenance) {
            return new Contents(kind, config, model, normalization, params, null, null, Map.of(), provenance, FORMAT_VERSION);
        }

        /** Whether it can be resumed (it holds a training state and an optimizer). */
        public boolean resumable() { return state != null; }
    }

    /** Saves atomically: the previous file at {@code file} stays intact until the new one is complete on disk. */
    public static void save(Path file, Contents c) throws IOException {
        if (c.params().dataType() != DataType.FLOAT) throw new IllegalArgumentException("checkpoints hold float32 parameters, got " + c.params().dataType());
        AtomicFiles.write(file, os -> write(os, c));
    }

    private static void write(OutputStream os, Contents c) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("kind", c.kind());
        m.put("library_version", LIBRARY_VERSION);
        m.put("created", Instant.now().toString());
        m.set("config", configJson(c.config()));
        putStrings(m.putObject("model"), c.model());
        if (c.normalization() != null) {
            ObjectNode n = m.putObject("normalization");
            ArrayNode mean = n.putArray("mean"), std = n.putArray("std");
            for (float v : c.normalization().mean()) mean.add(v);
            for (float v : c.normalization().std()) std.add(v);
        }
        if (c.state() != null) {
            ObjectNode st = m.putObject("state");
            st.put("epoch", c.state().epoch());
            st.put("step", c.state().step());
            st.put("micro_step", c.state().microStep());
            st.put("samples_seen", c.state().samplesSeen());
            st.put("seed", c.state().seed());
        }
        putStrings(m.putObject("options"), c.options());
        putStrings(m.putObject("provenance"), c.provenance());

        // Tensors first, the manifest with their checksums last (a reader finds it through the zip directory).
        ZipOutputStream zip = new ZipOutputStream(new NonClosing(os));
        zip.setLevel(Deflater.NO_COMPRESSION);   // float32 noise barely compresses; stored blocks stream at disk speed
        ArrayNode tensors = m.putArray("tensors");
        ParamStore store = c.params();
        for (ParamStore.Entry e : store.entries()) {
            ObjectNode t = tensors.addObject();
            t.put("name", e.name());
            ArrayNode shape = t.putArray("shape");
            for (long s : e.shape()) shape.add(s);
            t.put("trainable", e.trainable());
            t.put("crc32c", crcHex(putTensor(zip, "params/" + e.name() + ".npy", store.param(e.name()))));
        }
        if (c.optimizer() != null) {
            ObjectNode o = m.putObject("optimizer");
            o.put("name", c.optimizer().name());
            o.put("steps", c.optimizer().steps());
            ObjectNode h = o.putObject("hyper");
            new java.util.TreeMap<>(c.optimizer().hyper()).forEach(h::put);
            ArrayNode bufs = o.putArray("buffers");
            for (Map.Entry<String, INDArray> b : c.optimizer().buffers().entrySet()) {
                if (b.getValue().length() != store.numScalars()) {
                    throw new IllegalArgumentException("optimizer buffer " + b.getKey() + " has " + b.getValue().length() + " values, the parameters " + store.numScalars());
                }
                ObjectNode t = bufs.addObject();
                t.put("name", b.getKey());
                t.put("length", b.getValue().length());
                t.put("crc32c", crcHex(putTensor(zip, "optimizer/" + b.getKey() + ".npy", b.getValue())));
            }
        }
        zip.putNextEntry(new ZipEntry(MANIFEST));
        zip.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
        zip.closeEntry();
        zip.finish();
    }

    private static long putTensor(ZipOutputStream zip, String name, INDArray a) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        long crc = TensorStreams.write(a, zip);
        zip.closeEntry();
        return crc;
    }

    private static void putStrings(ObjectNode n, Map<String, String> values) {
        values.forEach(n::put);
    }

    private static String crcHex(long crc) { return String.format("%08x", crc); }

    /**
     * Reads a checkpoint, verifying every tensor's checksum.
     *
     * @throws IOException with a one-line message naming the file (and the tensor or manifest field) for a
     *                     missing, truncated, corrupt or foreign file
     */
    public static Contents load(Path file) throws IOException {
        if (!Files.exists(file)) throw new IOException("checkpoint " + file + ": file not found");
        if (!Files.isRegularFile(file)) throw new IOException("checkpoint " + file + ": not a regular file");
        try (ZipFile zip = open(file)) {
            ZipEntry me = zip.getEntry(MANIFEST);
            if (me == null) throw new IOException("checkpoint " + file + ": no manifest.json (not a mae4j checkpoint)");
            JsonNode m;
            try (InputStream is = zip.getInputStream(me)) {
                m = JSON.readTree(is.readNBytes(16 << 20));
            } catch (IOException e) {
                throw new IOException("checkpoint " + file + ": manifest.json is unreadable or not valid JSON (" + oneLine(e) + ")", e);
            }
            Fields f = new Fields(file, m);
            String format = f.text(m, "format");
            if (!FORMAT.equals(format)) throw new IOException("checkpoint " + file + ": not a mae4j checkpoint (format '" + format + "')");
            int version = f.integer(m, "format_version");
            if (version != 1 && version != FORMAT_VERSION) {
                throw new IOException("checkpoint " + file + ": format version " + version + " is not supported by mae4j " + LIBRARY_VERSION
                        + " (supported: 1.." + FORMAT_VERSION + ")");
            }
            Contents c;
            try {
                c = version == 1 ? LegacyV1.read(zip, m, f) : readV2(zip, m, f);
            } catch (ArithmeticException e) {
                throw f.error("the tensor sizes of its manifest overflow");
            }
            // whether the tensors fit the manifest's config is checked above this package (mae.ConfigFit.loadCheckpoint), where
            // the model's layout is known
            return c;
        }
    }

    private static ZipFile open(Path file) throws IOException {
        try {
            return new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new IOException("checkpoint " + file + ": not a readable zip file (truncated or corrupt: " + oneLine(e) + ")", e);
        }
    }

    private static Contents readV2(ZipFile zip, JsonNode m, Fields f) throws IOException {
        MaeConfig cfg = configFrom(f.object(m, "config"), f);
        ParamStore.Builder b = ParamStore.builder();
        JsonNode tensors = f.array(m, "tensors");
        List<long[]> shapes = new ArrayList<>();
        for (JsonNode t : tensors) {
            long[] shape = f.shape(t, "shape");
            shapes.add(shape);
            try {
                b.add(f.text(t, "name"), f.bool(t, "trainable"), shape);
            } catch (IllegalArgumentException e) {
                throw f.error("tensor list: " + e.getMessage());
            }
        }
        // Sizes come from the manifest: check them against the zip's entries and the free memory before
        // allocating (an absurd size would abort the JVM inside the native allocator, not throw).
        long floats = 0;
        int i = 0;
        for (JsonNode t : tensors) floats = Math.addExact(floats, requireEntry(zip, "params/" + t.get("name").asText() + ".npy", shapes.get(i++), f));
        requireMemory(f, Math.multiplyExact(floats, 8L));   // parameters and their gradients
        ParamStore store = b.build(DataType.FLOAT);
        i = 0;
        for (JsonNode t : tensors) {
            String name = t.get("name").asText();
            readTensor(zip, "params/" + name + ".npy", shapes.get(i++), store.param(name), f.crc(t), f);
        }
        State state = null;
        OptimizerState opt = null;
        JsonNode st = m.get("state");
        if (st != null && !st.isNull()) {
            state = f.state(st, f.has(st, "samples_seen") ? f.longValue(st, "samples_seen") : 0);
            JsonNode o = f.object(m, "optimizer");
            Map<String, Double> hyper = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = f.object(o, "hyper").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNumber()) throw f.error("field 'optimizer.hyper." + e.getKey() + "' is not a number");
                hyper.put(e.getKey(), e.getValue().asDouble());
            }
            Map<String, INDArray> buffers = new LinkedHashMap<>();
            for (JsonNode t : f.array(o, "buffers")) {
                String name = f.text(t, "name");
                long len = f.longValue(t, "length");
                if (len != store.numScalars()) throw f.error("optimizer buffer '" + name + "' has " + len + " values, the parameters " + store.numScalars());
                requireEntry(zip, "optimizer/" + name + ".npy", new long[] {len}, f);
                requireMemory(f, Math.multiplyExact(len, 4L));
                INDArray a = TensorStreams.allocate(new long[] {len});
                readTensor(zip, "optimizer/" + name + ".npy", new long[] {len}, a, f.crc(t), f);
                buffers.put(name, a);
            }
            opt = new OptimizerState(f.text(o, "name"), hyper, f.longValue(o, "steps"), buffers);
        }
        Normalization norm = null;
        JsonNode n = m.get("normalization");
        if (n != null && !n.isNull()) {
            try {
                norm = new Normalization(f.floats(n, "mean"), f.floats(n, "std"));
            } catch (IllegalArgumentException e) {
                throw f.error("normalization: " + e.getMessage());
            }
        }
        return new Contents(f.text(m, "kind"), cfg, f.strings(m, "model"), norm, store, state, opt, f.strings(m, "options"),
                f.strings(m, "provenance"), FORMAT_VERSION);
    }

    private static void readTensor(ZipFile zip, String entry, long[] shape, INDArray into, long crc, Fields f) throws IOException {
        ZipEntry e = zip.getEntry(entry);
        if (e == null) throw f.error("tensor " + entry + " is listed in the manifest but missing from the file");
        long got;
        try (InputStream is = zip.getInputStream(e)) {
            got = TensorStreams.read(is, shape, into, f.file + "!" + entry);
        } catch (IOException ex) {
            if (ex.getMessage() != null && ex.getMessage().startsWith(f.file + "!")) throw ex;   // TensorStreams named it already
            throw new IOException("checkpoint " + f.file + ": tensor " + entry + " is corrupt (" + oneLine(ex) + ")", ex);
        }
        if (got != crc) {
            throw new IOException("checkpoint " + f.file + ": tensor " + entry + " is corrupt (CRC32C " + crcHex(got) + ", manifest says "
                    + crcHex(crc) + "): the file was damaged after it was written");
        }
    }

    /** The entry must exist and hold exactly the .npy of this float32 shape; returns the shape's element count. */
    private static long requireEntry(ZipFile zip, String entry, long[] shape, Fields f) throws IOException {
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        ZipEntry e = zip.getEntry(entry);
        if (e == null) throw f.error("tensor " + entry + " is listed in the manifest but missing from the file");
        long want = TensorStreams.header(shape).length + Math.multiplyExact(count, 4L);
        if (e.getSize() != want) throw f.error("tensor " + entry + " holds " + e.getSize() + " bytes, its manifest shape " + java.util.Arrays.toString(shape) + " needs " + want);
        return count;
    }

    private static void requireMemory(Fields f, long bytes) throws IOException {
        long free = org.bytedeco.javacpp.Pointer.availablePhysicalBytes();
        if (free > 0 && bytes > free) {
            throw f.error(String.format(java.util.Locale.ROOT, "needs %.1f GiB of memory to load, %.1f GiB is free", bytes / 1073741824.0, free / 1073741824.0));
        }
    }

    static String oneLine(Exception e) {
        String s = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return s.replace('\n', ' ');
    }

    // ------------------------------------------------------------------ config

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

    static MaeConfig configFrom(JsonNode n, Fields f) throws IOException {
        try {
            return new MaeConfig(f.integer(n, "image_size"), f.integer(n, "patch_size"), f.integer(n, "channels"),
                    vitFrom(f.object(n, "encoder"), f), vitFrom(f.object(n, "decoder"), f), f.number(n, "mask_ratio"),
                    f.bool(n, "norm_pix_loss"), f.number(n, "norm_eps"));
        } catch (IllegalArgumentException e) {
            throw f.error("invalid model config: " + e.getMessage());
        }
    }

    private static VitSpec vitFrom(JsonNode n, Fields f) throws IOException {
        return new VitSpec(f.integer(n, "width"), f.integer(n, "depth"), f.integer(n, "heads"), f.number(n, "mlp_ratio"));
    }

    /** Typed, validated access to manifest fields: every problem is one line naming the file and the field. */
    static final class Fields {
        final Path file;
        final JsonNode root;

        Fields(Path file, JsonNode root) throws IOException {
            this.file = file;
            this.root = root;
            if (root == null || !root.isObject()) throw error("manifest.json is not a JSON object");
        }

        IOException error(String problem) { return new IOException("checkpoint " + file + ": " + problem); }

        boolean has(JsonNode n, String field) { return n.hasNonNull(field); }

        private JsonNode req(JsonNode n, String field) throws IOException {
            JsonNode v = n.get(field);
            if (v == null || v.isNull()) throw error("manifest field '" + field + "' is missing");
            return v;
        }

        String text(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isTextual()) throw error("manifest field '" + field + "' is not a string: " + v);
            return v.asText();
        }

        int integer(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.canConvertToInt() || !v.isIntegralNumber()) throw error("manifest field '" + field + "' is not an int: " + v);
            return v.asInt();
        }

        long longValue(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) throw error("manifest field '" + field + "' is not an integer: " + v);
            return v.asLong();
        }

        double number(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isNumber()) throw error("manifest field '" + field + "' is not a number: " + v);
            return v.asDouble();
        }

        boolean bool(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isBoolean()) throw error("manifest field '" + field + "' is not true/false: " + v);
            return v.asBoolean();
        }

        JsonNode object(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isObject()) throw error("manifest field '" + field + "' is not an object");
            return v;
        }

        JsonNode array(JsonNode n, String field) throws IOException {
            JsonNode v = req(n, field);
            if (!v.isArray()) throw error("manifest field '" + field + "' is not a list");
            return v;
        }

        long[] shape(JsonNode n, String field) throws IOException {
            JsonNode a = array(n, field);
            long[] s = new long[a.size()];
            long count = 1;
            for (int i = 0; i < s.length; i++) {
                JsonNode d = a.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) throw error("tensor shape " + a + " has a bad dimension " + d);
                s[i] = d.asLong();
                try {
                    count = Math.multiplyExact(count, s[i]);
                    Math.multiplyExact(count, 4L);
                } catch (ArithmeticException e) {
                    throw error("tensor shape " + a + " is too large");
                }
            }
            return s;
        }

        float[] floats(JsonNode n, String field) throws IOException {
            JsonNode a = array(n, field);
            float[] r = new float[a.size()];
            for (int i = 0; i < r.length; i++) {
                if (!a.get(i).isNumber()) throw error("manifest field '" + field + "' holds a non-number: " + a.get(i));
                r[i] = (float) a.get(i).asDouble();
            }
            return r;
        }

        long crc(JsonNode t) throws IOException {
            String s = text(t, "crc32c");
            try {
                return Long.parseLong(s, 16);
            } catch (NumberFormatException e) {
                throw error("manifest field 'crc32c' is not hexadecimal: " + s);
            }
        }

        Map<String, String> strings(JsonNode n, String field) throws IOException {
            Map<String, String> r = new LinkedHashMap<>();
            JsonNode o = n.get(field);
            if (o == null || o.isNull()) return r;
            if (!o.isObject()) throw error("manifest field '" + field + "' is not an object");
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                r.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
            }
            return r;
        }

        State state(JsonNode st, long samplesSeen) throws IOException {
            try {
                return new State(integer(st, "epoch"), longValue(st, "step"), longValue(st, "micro_step"), samplesSeen, longValue(st, "seed"));
            } catch (IllegalArgumentException e) {
                throw error("training state: " + e.getMessage());
            }
        }
    }

    /** The format of mae4j before the one engine: whole-tensor .npy entries, AdamW moments, no checksums of its own. */
    private static final class LegacyV1 {
        private static final Pattern NORMALIZATION = Pattern.compile("mean \\[([^\\]]*)\\], std \\[([^\\]]*)\\]");

        static Contents read(ZipFile zip, JsonNode m, Fields f) throws IOException {
            MaeConfig cfg = configFrom(f.object(m, "config"), f);
            ParamStore.Builder b = ParamStore.builder();
            JsonNode tensors = f.array(m, "tensors");
            for (JsonNode t : tensors) {
                try {
                    b.add(f.text(t, "name"), f.bool(t, "trainable"), f.shape(t, "shape"));
                } catch (IllegalArgumentException e) {
                    throw f.error("tensor list: " + e.getMessage());
                }
            }
            long floats = 0;
            for (JsonNode t : tensors) {
                String entry = "params/" + t.get("name").asText() + ".npy";
                long count = 1;
                for (long d : f.shape(t, "shape")) count = Math.multiplyExact(count, d);
                ZipEntry e = zip.getEntry(entry);
                if (e == null) throw f.error("tensor " + entry + " is listed in the manifest but missing from the file");
                if (e.getSize() < 4 * count) throw f.error("tensor " + entry + " holds " + e.getSize() + " bytes, too few for its manifest shape");
                floats = Math.addExact(floats, count);
            }
            requireMemory(f, Math.multiplyExact(floats, 8L));
            ParamStore store = b.build(DataType.FLOAT);
            for (JsonNode t : tensors) {
                String name = t.get("name").asText();
                INDArray v = npy(zip, "params/" + name + ".npy", f);
                try {
                    store.set(name, v);
                } catch (IllegalArgumentException e) {
                    throw f.error("tensor params/" + name + ".npy: " + e.getMessage());
                }
            }
            Map<String, String> prov = f.strings(m, "provenance");
            State state = null;
            OptimizerState opt = null;
            JsonNode o = m.get("optimizer");
            if (o != null && !o.isNull()) {
                // v1 counted samples nowhere; at its epoch ends it was step * batch, which the state cannot know.
                state = f.state(f.object(m, "state"), 0);
                Map<String, Double> hyper = new LinkedHashMap<>();
                for (String k : List.of("beta1", "beta2", "eps", "weight_decay")) hyper.put(k, f.number(o, k));
                Map<String, INDArray> buffers = new LinkedHashMap<>();
                for (String k : List.of("exp_avg", "exp_avg_sq")) {
                    INDArray a = npy(zip, "optimizer/" + k + ".npy", f);
                    if (a.length() != store.numScalars()) throw f.error("optimizer/" + k + ".npy has " + a.length() + " values, the parameters " + store.numScalars());
                    buffers.put(k, a.reshape(a.length()));
                }
                opt = new OptimizerState(f.text(o, "name"), hyper, f.longValue(o, "steps"), buffers);
            }
            String kind = "pretrain".equals(prov.get("command")) || opt != null ? "pretrain" : "weights";
            return new Contents(kind, cfg, Map.of(), normalization(prov.get("normalization")), store, state, opt, Map.of(), prov, 1);
        }

        private static INDArray npy(ZipFile zip, String entry, Fields f) throws IOException {
            ZipEntry e = zip.getEntry(entry);
            if (e == null) throw f.error("tensor " + entry + " is listed in the manifest but missing from the file");
            try (InputStream is = zip.getInputStream(e)) {
                return Npy.fromBytes(is.readAllBytes(), f.file + "!" + entry);
            } catch (IOException ex) {
                if (ex.getMessage() != null && ex.getMessage().contains(f.file.toString())) throw ex;
                throw new IOException("checkpoint " + f.file + ": tensor " + entry + " is corrupt (" + oneLine(ex) + ")", ex);
            }
        }

        /** v1 wrote the normalization as "mean [a, b], std [c, d]" in its provenance. */
        static Normalization normalization(String s) {
            if (s == null) return null;
            Matcher mm = NORMALIZATION.matcher(s);
            if (!mm.find()) return null;
            try {
                return new Normalization(parse(mm.group(1)), parse(mm.group(2)));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        private static float[] parse(String list) {
            String[] parts = list.split(",");
            float[] r = new float[parts.length];
            for (int i = 0; i < r.length; i++) r[i] = Float.parseFloat(parts[i].trim());
            return r;
        }
    }

    /** Lets the zip stream finish its directory without closing the atomic writer's stream under it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream os) { super(os); }
        @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
        @Override public void close() throws IOException { flush(); }
    }
}
