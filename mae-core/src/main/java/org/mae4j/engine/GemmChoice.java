package org.mae4j.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Which path computes each matrix product of {@link CpuKernels}: the Java AVX-512 kernel ({@link VectorGemm}) or
 * OpenBLAS. Which is faster depends on the CPU (~300 against ~195 GFLOP/s on 2026-11-24's machine, ~165 against
 * ~205 on 2026-11-29's) and on the product's shape, and the two round differently, so the choice must not be a
 * race: it used to be one short measurement at every start, which flipped between back-to-back runs (vitTiny32
 * at 182 and then 136 images/s on 2026-11-30).
 *
 * <p>So the choice is made per product shape ({@link Shape}: M, N, K and the transpositions, as the model issues
 * them), once per machine: the first time a shape is seen, both paths run it in alternation until each has
 * 5-15 samples of at least 2 ms, and the Java kernel wins only when its median is more than {@link #MARGIN}
 * below OpenBLAS's (a near tie goes to OpenBLAS, so noise cannot flip it). The measurements go to a small JSON
 * file ({@link GemmCache}) named after the machine and the kernels' versions, and every later start on that
 * machine reads the decision from it without measuring.
 *
 * <p>Overrides, strongest first: an explicit path given to {@link CpuKernels}'s constructor; {@link #force}
 * (the commands' {@code --gemm}); the system property {@value #PROPERTY}; the environment variable
 * {@value #ENV}. Each takes {@code java}, {@code openblas} (or {@code blas}) or {@code auto}. The cache folder is
 * the system property {@value #CACHE_PROPERTY}, else the environment variable {@value #CACHE_ENV}, else
 * {@code ~/.mae4j}.
 */
public final class GemmChoice {
    private static final Logger LOG = LoggerFactory.getLogger(GemmChoice.class);

    /** The environment variable that fixes the path: java, openblas or auto. */
    public static final String ENV = "MAE4J_GEMM";
    /** The system property that fixes the path (wins over {@link #ENV}). */
    public static final String PROPERTY = "mae4j.gemm";
    /** The environment variable naming the folder of the per-machine cache. */
    public static final String CACHE_ENV = "MAE4J_CACHE_DIR";
    /** The system property naming that folder (wins over {@link #CACHE_ENV}). */
    public static final String CACHE_PROPERTY = "mae4j.cacheDir";
    /** How much faster (relative) the Java kernel must measure to be chosen; within it, OpenBLAS is kept. */
    public static final double MARGIN = 0.05;

    /** The two ways of computing a product. */
    public enum GemmPathName {
        JAVA("java"), OPENBLAS("openblas");
        private final String label;
        GemmPathName(String label) { this.label = label; }
        /** "java" or "openblas", as in the cache file, the logs and the bench JSON. */
        public String label() { return label; }
    }

    /** One product as the model issues it: {@code c [m, n] = op(a) [m, k] op(b) [k, n]}. */
    public record Shape(int m, int n, int k, boolean transA, boolean transB) {
        public Shape {
            if (m < 1 || n < 1 || k < 1) throw new IllegalArgumentException("gemm shape dims must be >= 1, got m=" + m + " n=" + n + " k=" + k);
        }

        /** E.g. {@code "M2048 N576 K192 NT"}: op(a) not transposed, op(b) transposed. */
        public String key() { return "M" + m + " N" + n + " K" + k + " " + (transA ? 'T' : 'N') + (transB ? 'T' : 'N'); }

        /** The inverse of {@link #key()}. */
        public static Shape parse(String key) {
            String[] p = key.split(" ");
            if (p.length != 4 || !p[0].startsWith("M") || !p[1].startsWith("N") || !p[2].startsWith("K") || !p[3].matches("[NT][NT]")) {
                throw new IllegalArgumentException("not a gemm shape key (want e.g. 'M2048 N576 K192 NT'): '" + key + "'");
            }
            try {
                return new Shape(Integer.parseInt(p[0].substring(1)), Integer.parseInt(p[1].substring(1)), Integer.parseInt(p[2].substring(1)),
                        p[3].charAt(0) == 'T', p[3].charAt(1) == 'T');
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a gemm shape key (want e.g. 'M2048 N576 K192 NT'): '" + key + "'");
            }
        }

        double flop() { return 2.0 * m * n * (double) k; }
    }

    /** Median nanoseconds per product on each path, from {@code samples} alternating samples per path. */
    public record Measurement(double javaNs, double blasNs, int samples) {
        public Measurement {
            if (!(javaNs > 0) || !(blasNs > 0) || samples < 1) {
                throw new IllegalArgumentException("a gemm measurement needs positive times and samples, got java " + javaNs + " ns, blas " + blasNs + " ns, " + samples + " samples");
            }
        }
    }

    /** Where a product's path came from. */
    public enum Source { CACHED, MEASURED, FORCED }

    /** The path of one product shape, why, and the measurement behind it (null when forced). */
    public record Decision(GemmPathName path, Source source, Measurement measurement) {}

    /** Runs one product on one path (the kernels instance that asks lends its own threads for measuring). */
    @FunctionalInterface
    interface Runner { void run(boolean java, INDArray a, boolean transA, INDArray b, boolean transB, INDArray c); }

    /** Times a shape on both paths. */
    @FunctionalInterface
    interface Measurer { Measurement measure(Shape s, Runner r); }

    /** The rule, a pure function of the measurement: Java only when it is more than {@link #MARGIN} faster. */
    public static GemmPathName decide(Measurement m) {
        return m.javaNs() * (1 + MARGIN) < m.blasNs() ? GemmPathName.JAVA : GemmPathName.OPENBLAS;
    }

    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();
    private static volatile String forced;          // the commands' --gemm, null = not given
    private static volatile GemmChoice shared;

    private final GemmPathName fixed;               // null: per shape
    private final String reason;                    // who fixed it, or a description of the auto mode
    private final GemmCache cache;                  // null: no persistence
    private final Measurer measurer;
    private final Map<Shape, Decision> known = new ConcurrentHashMap<>();

    private GemmChoice(GemmPathName fixed, String reason, GemmCache cache, Measurer measurer) {
        this.fixed = fixed;
        this.reason = reason;
        this.cache = cache;
        this.measurer = measurer;
        if (cache != null) cache.load().forEach((s, m) -> known.put(s, new Decision(decide(m), Source.CACHED, m)));
    }

    /** Every product on one path; reason says who asked (e.g. "MAE4J_GEMM=java"). */
    static GemmChoice fixed(GemmPathName path, String reason) { return new GemmChoice(path, reason, null, null); }

    /** Per shape, from the cache (may be null) and, for shapes it lacks, from the measurer. */
    static GemmChoice perShape(GemmCache cache, Measurer measurer) {
        return new GemmChoice(null, "auto: per product shape" + (cache == null ? ", not cached" : ", cached in " + cache.file()), cache, measurer);
    }

    /**
     * The choice a {@link CpuKernels} built with {@code requested} gets: the requested path, else an override
     * ({@link #force}, {@value #PROPERTY}, {@value #ENV}), else this JVM's per-shape choice over the per-machine
     * cache. Without the Vector API the Java kernel cannot run, and without 512-bit vectors it is not considered.
     */
    static GemmChoice forKernels(CpuKernels.GemmPath requested, boolean vectorApi) {
        return forKernels(requested, vectorApi, System::getenv);
    }

    /** As {@link #forKernels(CpuKernels.GemmPath, boolean)} with the environment given (tests). */
    static GemmChoice forKernels(CpuKernels.GemmPath requested, boolean vectorApi, java.util.function.UnaryOperator<String> env) {
        GemmPathName want;
        String why;
        switch (requested) {
            case JAVA -> { want = GemmPathName.JAVA; why = "requested"; }
            case BLAS -> { want = GemmPathName.OPENBLAS; why = "requested"; }
            default -> {
                String[] o = override(env);
                want = o == null ? null : parse(o[1], o[0]);
                why = o == null ? null : o[0] + "=" + o[1];
            }
        }
        if (want == GemmPathName.JAVA && !vectorApi) {
            throw new IllegalStateException("the Java gemm path (" + why + ") needs the Vector API: start the JVM with --add-modules jdk.incubator.vector");
        }
        if (want != null) return fixed(want, why);
        if (!vectorApi || !VectorGemm.worthIt()) {
            return fixed(GemmPathName.OPENBLAS, vectorApi ? "no 512-bit vectors in this JVM" : "no Vector API in this JVM");
        }
        GemmChoice s = shared;
        if (s == null) {
            synchronized (GemmChoice.class) {
                if (shared == null) shared = perShape(GemmCache.forThisMachine(cacheDir()), GemmChoice::time);
                s = shared;
            }
        }
        return s;
    }

    /**
     * Fixes the path for every CpuKernels built with AUTO from now on in this JVM (the commands' {@code --gemm}):
     * java, openblas/blas, or auto (null) to clear it, leaving {@value #PROPERTY} and {@value #ENV} in charge.
     */
    public static void force(String path) {
        if (path == null || path.equalsIgnoreCase("auto")) { forced = null; return; }
        parse(path, "--gemm");
        forced = path.toLowerCase(Locale.ROOT);
    }

    /** {source, value} of the strongest override, or null. */
    private static String[] override(java.util.function.UnaryOperator<String> env) {
        String f = forced;
        if (f != null) return new String[] {"--gemm", f};
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank() && !p.trim().equalsIgnoreCase("auto")) return new String[] {"-D" + PROPERTY, p.trim()};
        String e = env.apply(ENV);
        if (e != null && !e.isBlank() && !e.trim().equalsIgnoreCase("auto")) return new String[] {ENV, e.trim()};
        return null;
    }

    private static GemmPathName parse(String value, String source) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "java" -> GemmPathName.JAVA;
            case "openblas", "blas" -> GemmPathName.OPENBLAS;
            default -> throw new IllegalArgumentException(source + " must be java, openblas or auto, got '" + value + "'");
        };
    }

    /** The cache folder: {@value #CACHE_PROPERTY}, else {@value #CACHE_ENV}, else ~/.mae4j. */
    public static Path cacheDir() {
        String p = System.getProperty(CACHE_PROPERTY);
        if (p != null && !p.isBlank()) return Path.of(p);
        String e = System.getenv(CACHE_ENV);
        if (e != null && !e.isBlank()) return Path.of(e);
        return Path.of(System.getProperty("user.home"), ".mae4j");
    }

    /** The path of one product shape: fixed, cached, or measured now (and cached). */
    Decision decide(Shape s, Runner runner) {
        announce();
        if (fixed != null) return new Decision(fixed, Source.FORCED, null);
        Decision d = known.get(s);
        if (d != null) return d;
        synchronized (this) {
            d = known.get(s);
            if (d != null) return d;
            Measurement m = measurer.measure(s, runner);
            d = new Decision(decide(m), Source.MEASURED, m);
            LOG.debug("gemm {}: Java {} ns, OpenBLAS {} ns -> {}", s.key(), Math.round(m.javaNs()), Math.round(m.blasNs()), d.path().label());
            known.put(s, d);
            if (cache != null) {
                // another process may have measured other shapes meanwhile: adopt them (first measurement wins)
                cache.add(s, m).forEach((cs, cm) -> known.putIfAbsent(cs, new Decision(decide(cm), Source.CACHED, cm)));
            }
            return d;
        }
    }

    /** The one log line per JVM, at the first product. */
    private void announce() {
        if (ANNOUNCED.get() || !ANNOUNCED.compareAndSet(false, true)) return;
        if (fixed != null) {
            LOG.info("matrix products: all on {} ({})", fixed.label(), reason);
        } else {
            LOG.info("matrix products: per product shape, Java AVX-512 kernel or OpenBLAS, decided once per machine ({} shapes known{}); new shapes are measured once and cached",
                    known.size(), cache == null ? "" : " in " + cache.file() + (cache.status() == null ? "" : ", " + cache.status()));
        }
    }

    /** Where this choice comes from, before any product: e.g. "java (MAE4J_GEMM=java)" or "auto: per product shape, cached in FILE". */
    public String mode() { return fixed != null ? fixed.label() + " (" + reason + ")" : reason; }

    /** True when every product takes the given path whatever its shape. */
    boolean fixedTo(GemmPathName path) { return fixed == path; }

    /**
     * One line for logs and records over the products issued: e.g. {@code "openblas (auto, 18 products: 18 cached)"},
     * {@code "mixed: java 6, openblas 12 (auto, 18 products: 12 cached, 6 measured)"}, {@code "java (MAE4J_GEMM=java, 18 products)"}.
     */
    static String summary(GemmChoice choice, Map<Shape, Decision> issued) {
        if (issued.isEmpty()) return choice.mode() + ", no product yet";
        int java = 0, blas = 0, cached = 0, measured = 0;
        for (Decision d : issued.values()) {
            if (d.path() == GemmPathName.JAVA) java++; else blas++;
            if (d.source() == Source.CACHED) cached++; else if (d.source() == Source.MEASURED) measured++;
        }
        int n = issued.size();
        if (choice.fixed != null) return choice.fixed.label() + " (" + choice.reason + ", " + n + " products)";
        String paths = java == 0 ? "openblas" : blas == 0 ? "java" : "mixed: java " + java + ", openblas " + blas;
        List<String> from = new ArrayList<>();
        if (cached > 0) from.add(cached + " cached");
        if (measured > 0) from.add(measured + " measured");
        return paths + " (auto, " + n + " products: " + String.join(", ", from) + ")";
    }

    /** Shape key -> "java" / "openblas", sorted by key, for JSON records. */
    static Map<String, String> paths(Map<Shape, Decision> issued) {
        Map<String, String> m = new TreeMap<>();
        issued.forEach((s, d) -> m.put(s.key(), d.path().label()));
        return m;
    }

    /**
     * The matrix-product paths of a model's kernels in one line, for metrics and checkpoints (see
     * {@link #summary}); {@code "nd4j (portable kernels)"} for kernels other than {@link CpuKernels}.
     */
    public static String describe(Kernels k) {
        Kernels inner = unwrap(k);
        return inner instanceof CpuKernels c ? c.gemmSummary() : "nd4j (portable kernels)";
    }

    /** Per product shape the kernels have run, its path (empty for kernels other than {@link CpuKernels}). */
    public static Map<String, String> products(Kernels k) {
        Kernels inner = unwrap(k);
        return inner instanceof CpuKernels c ? c.gemmPaths() : Map.of();
    }

    private static Kernels unwrap(Kernels k) { return k instanceof ProfilingKernels p ? p.inner() : k; }

    // ------------------------------------------------------------------ measuring

    private static final long MIN_SAMPLE_NS = 2_000_000, BUDGET_NS = 400_000_000;
    private static final int MIN_SAMPLES = 5, MAX_SAMPLES = 15;
    private static final AtomicBoolean WARM = new AtomicBoolean();

    /**
     * Both paths on scratch operands of the shape, in alternating order (ABBA, so drift hits both alike):
     * each sample repeats the product until it lasts >= 2 ms, and the number of samples (5-15) fits ~0.4 s.
     */
    static Measurement time(Shape s, Runner r) {
        warmUpJavaKernel(r);
        INDArray a = Nd4j.create(DataType.FLOAT, s.transA() ? new long[] {s.k(), s.m()} : new long[] {s.m(), s.k()}).assign(0.5);
        INDArray b = Nd4j.create(DataType.FLOAT, s.transB() ? new long[] {s.n(), s.k()} : new long[] {s.k(), s.n()}).assign(0.25);
        INDArray c = Nd4j.create(DataType.FLOAT, s.m(), s.n());
        try {
            long once = Math.max(1, Math.min(sample(r, true, a, s, b, c, 1), sample(r, false, a, s, b, c, 1)));
            int reps = (int) Math.max(1, (MIN_SAMPLE_NS + once - 1) / once);
            long perSample = reps * once;
            // products of 100 ms and more (e.g. 4096^3) vary little from one call to the next: 3 samples do
            int samples = (int) Math.max(perSample >= 100_000_000 ? 3 : MIN_SAMPLES, Math.min(MAX_SAMPLES, BUDGET_NS / (2 * perSample)));
            double[] java = new double[samples], blas = new double[samples];
            for (int i = 0; i < samples; i++) {
                boolean javaFirst = i % 2 == 0;
                double first = sample(r, javaFirst, a, s, b, c, reps) / (double) reps;
                double second = sample(r, !javaFirst, a, s, b, c, reps) / (double) reps;
                java[i] = javaFirst ? first : second;
                blas[i] = javaFirst ? second : first;
            }
            return new Measurement(median(java), median(blas), samples);
        } finally {
            a.close();   // up to hundreds of MB for big shapes: not left to the GC
            b.close();
            c.close();
        }
    }

    private static long sample(Runner r, boolean java, INDArray a, Shape s, INDArray b, INDArray c, int reps) {
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) r.run(java, a, s.transA(), b, s.transB(), c);
        return System.nanoTime() - t0;
    }

    /** Gets the Java kernel compiled (every transposition) before the first measurement, so it is not timed in the interpreter. */
    private static void warmUpJavaKernel(Runner r) {
        if (WARM.get()) return;
        INDArray x = Nd4j.create(DataType.FLOAT, 768, 384).assign(0.5), w = Nd4j.create(DataType.FLOAT, 384, 384).assign(0.25);
        INDArray y = Nd4j.create(DataType.FLOAT, 768, 384), v = Nd4j.create(DataType.FLOAT, 384, 384);
        for (int i = 0; i < 8; i++) {
            r.run(true, x, false, w, false, y);
            r.run(true, x, false, w, true, y);
            r.run(true, x, true, y, false, v);
            r.run(true, w, true, w, true, v);
        }
        for (int i = 0; i < 2; i++) r.run(false, x, false, w, true, y);
        for (INDArray t : new INDArray[] {x, w, y, v}) t.close();
        WARM.set(true);
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /** Tests only: the per-shape choice of this JVM is rebuilt at next use (e.g. after changing the cache folder). */
    static synchronized void resetShared() { shared = null; }

    /** For tests: the decisions known so far, shape key -> path, sorted. */
    Map<String, String> knownPaths() {
        Map<String, String> m = new TreeMap<>();
        known.forEach((s, d) -> m.put(s.key(), d.path().label()));
        return m;
    }

    GemmCache cache() { return cache; }
}
