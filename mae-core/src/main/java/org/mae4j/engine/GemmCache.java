package org.mae4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The per-machine file of {@link GemmChoice}'s measurements, one JSON object per product shape. Its name carries a
 * hash of the machine and the kernels' versions ({@code gemm-choice-<machine>-<mae4j version>-<kernels>.json}), so
 * another CPU, core count, OpenBLAS or a rebuilt Java kernel gets a file of its own and measures afresh; the same
 * fields are repeated inside and checked, so a copied or hand-edited file is caught. A file that does not parse or
 * belongs elsewhere is ignored with a warning and rewritten. Every write goes to a temporary file in the same
 * folder and is moved over the old one, so a reader never sees half a file; two processes measuring at once
 * merge their shapes, the first measurement of a shape winning.
 */
final class GemmCache {
    private static final Logger LOG = LoggerFactory.getLogger(GemmCache.class);
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What the measurements are valid for. cpu: the CPU model; processors: the cores the JVM may use (the
     * threads the products get); openblas: its version and OPENBLAS_CORETYPE; kernels: a hash of the compiled
     * Java kernel and its dispatch.
     */
    record Identity(String cpu, String arch, int processors, String openblas, String mae4j, String kernels) {
        Identity {
            for (String s : new String[] {cpu, arch, openblas, mae4j, kernels}) {
                if (s == null) throw new IllegalArgumentException("gemm cache identity fields must not be null");
            }
            if (processors < 1) throw new IllegalArgumentException("processors must be >= 1, got " + processors);
        }

        String fileName() {
            String machine = sha256(cpu + "|" + arch + "|" + processors + "|" + openblas).substring(0, 12);
            return "gemm-choice-" + machine + "-" + mae4j.replaceAll("[^A-Za-z0-9.]", "_") + "-" + kernels + ".json";
        }

        /** This JVM on this machine. */
        static Identity current() {
            String coretype = System.getenv("OPENBLAS_CORETYPE");
            return new Identity(cpuModel(), System.getProperty("os.arch", "?"), Runtime.getRuntime().availableProcessors(),
                    org.bytedeco.openblas.global.openblas.OPENBLAS_VERSION.trim() + ", OPENBLAS_CORETYPE=" + (coretype == null ? "unset" : coretype),
                    mae4jVersion(), kernelsHash());
        }
    }

    private final Path dir, file;
    private final Identity id;
    private String status;                 // null, or why the file found at start was ignored
    private boolean writeFailed;

    GemmCache(Path dir, Identity id) {
        this.dir = dir;
        this.id = id;
        this.file = dir.resolve(id.fileName());
    }

    static GemmCache forThisMachine(Path dir) { return new GemmCache(dir, Identity.current()); }

    Path file() { return file; }

    /** Null, or e.g. "ignored a corrupt file (...), rewritten". */
    String status() { return status; }

    /** The measurements in the file; a corrupt or foreign file is ignored with a warning and rewritten empty. */
    synchronized Map<GemmChoice.Shape, GemmChoice.Measurement> load() {
        if (!Files.exists(file)) return new TreeMap<>(BY_KEY);
        try {
            return read();
        } catch (IOException | RuntimeException e) {
            String why = firstLine(e);
            status = "ignored an unusable file (" + why + "), rewritten";
            LOG.warn("gemm choice cache {}: ignored ({}); it is rewritten and the shapes measured again", file, why);
            write(new TreeMap<>(BY_KEY));
            return new TreeMap<>(BY_KEY);
        }
    }

    /** Adds one shape's measurement (keeping one already in the file) and returns everything the file now holds. */
    synchronized Map<GemmChoice.Shape, GemmChoice.Measurement> add(GemmChoice.Shape s, GemmChoice.Measurement m) {
        Map<GemmChoice.Shape, GemmChoice.Measurement> all;
        try {
            all = Files.exists(file) ? read() : new TreeMap<>(BY_KEY);
        } catch (IOException | RuntimeException e) {
            LOG.warn("gemm choice cache {}: ignored ({}); rewritten", file, firstLine(e));
            all = new TreeMap<>(BY_KEY);
        }
        all.putIfAbsent(s, m);
        write(all);
        return all;
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl).trim();
    }

    private static final java.util.Comparator<GemmChoice.Shape> BY_KEY = java.util.Comparator.comparing(GemmChoice.Shape::key);

    private Map<GemmChoice.Shape, GemmChoice.Measurement> read() throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        if (root == null || !root.isObject()) throw new IOException("not a JSON object");
        if (root.path("format").asInt(-1) != FORMAT) throw new IOException("format " + root.path("format") + ", expected " + FORMAT);
        JsonNode mine = identityJson();
        if (!mine.equals(root.get("identity"))) throw new IOException("written for another machine or library: " + root.get("identity"));
        JsonNode products = root.get("products");
        if (products == null || !products.isObject()) throw new IOException("no products object");
        Map<GemmChoice.Shape, GemmChoice.Measurement> out = new TreeMap<>(BY_KEY);
        for (Iterator<Map.Entry<String, JsonNode>> it = products.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode p = e.getValue();
            if (!p.path("java_ns").isNumber() || !p.path("openblas_ns").isNumber() || !p.path("samples").isInt()) {
                throw new IOException("product '" + e.getKey() + "' lacks java_ns, openblas_ns or samples");
            }
            out.put(GemmChoice.Shape.parse(e.getKey()),
                    new GemmChoice.Measurement(p.get("java_ns").asDouble(), p.get("openblas_ns").asDouble(), p.get("samples").asInt()));
        }
        return out;
    }

    private ObjectNode identityJson() {
        ObjectNode m = JSON.createObjectNode();
        m.put("cpu", id.cpu()).put("arch", id.arch()).put("processors", id.processors()).put("openblas", id.openblas())
                .put("mae4j", id.mae4j()).put("kernels", id.kernels());
        return m;
    }

    private void write(Map<GemmChoice.Shape, GemmChoice.Measurement> all) {
        if (writeFailed) return;
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("about", "mae4j: per matrix-product shape (M N K, op(a) op(b): N plain, T transposed), median ns per product on"
                + " each path; the Java kernel is used where it is more than " + Math.round(100 * GemmChoice.MARGIN)
                + "% faster. Delete this file to measure again; MAE4J_GEMM=java|openblas overrides it.");
        root.set("identity", identityJson());
        ObjectNode products = root.putObject("products");
        all.forEach((s, m) -> products.putObject(s.key()).put("path", GemmChoice.decide(m).label())
                .put("java_ns", Math.round(m.javaNs() * 10) / 10.0).put("openblas_ns", Math.round(m.blasNs() * 10) / 10.0)
                .put("samples", m.samples()));
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, ".gemm-choice-", ".tmp");
            Files.writeString(tmp, JSON.writeValueAsString(root) + "\n");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UnsupportedOperationException e) {
            writeFailed = true;
            LOG.warn("gemm choice cache {}: cannot write ({}); the choice is kept for this run only", file, e.getMessage());
            try { if (tmp != null) Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort */ }
        }
    }

    // ------------------------------------------------------------------ identity

    /** "model name" from /proc/cpuinfo (x86), else the ARM implementer/part, else "unknown". */
    static String cpuModel() {
        try {
            String implementer = null, part = null;
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String k = line.substring(0, colon).trim(), v = line.substring(colon + 1).trim();
                if (k.equals("model name")) return v;
                if (k.equals("CPU implementer") && implementer == null) implementer = v;
                if (k.equals("CPU part") && part == null) part = v;
            }
            if (implementer != null) return "implementer " + implementer + " part " + part;
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture and core count still tell machines apart roughly
        }
        return "unknown";
    }

    private static String mae4jVersion() {
        try (InputStream in = GemmCache.class.getResourceAsStream("/META-INF/maven/org.mae4j/mae-core/pom.properties")) {
            if (in == null) return "dev";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }

    /** The compiled Java kernel and its dispatch: a rebuilt kernel may be faster or slower, so it is measured again. */
    static String kernelsHash() {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            // by resource name: the class literal of VectorGemm would need the Vector API module to load
            for (String c : new String[] {"VectorGemm.class", "CpuKernels.class"}) {
                try (InputStream in = GemmCache.class.getResourceAsStream(c)) {
                    if (in != null) d.update(in.readAllBytes());
                }
            }
            return HexFormat.of().formatHex(d.digest()).substring(0, 8);
        } catch (IOException | NoSuchAlgorithmException e) {
            return "unknown";
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
