package org.mae4j.examples;

import org.bytedeco.javacpp.Pointer;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.ProfilingKernels;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code ./mae bench}: training and encoder throughput, memory and allocations, measured the way
 * ../shared/bench/bench_torch.py measures PyTorch (same configurations, batches, optimizer and step count).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Measure training and encoder throughput (images/s), memory and allocations per step.")
public final class BenchCommand implements Callable<Integer> {

    /** One configuration to measure: preset, batch, timed steps. */
    public record Case(String preset, int batch, int steps) {
        public Case {
            if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1 (the timed steps), got " + steps);
        }

        /** Refuses, before any model or batch is allocated, a batch whose step cannot fit in this machine's memory. */
        void checkMemory(boolean finetune) {
            MaeConfig cfg = MaeConfig.preset(preset);
            String what = preset + " --batch " + batch;
            org.mae4j.train.MemoryNeed.checkInference(cfg, batch, what, "use a smaller --batch");   // the input batches
            try {
                (finetune ? org.mae4j.finetune.FineTuning.memory(cfg, batch) : org.mae4j.mae.Pretraining.memory(cfg, batch))
                        .check(what, Pointer.availablePhysicalBytes(), "use a smaller --batch");
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(what + ": its activations would not even have a size that fits in a long; use a smaller --batch");
            }
        }
    }

    /** What one configuration measured. */
    public record Result(String preset, int batch, double trainMedian, double trainMin, double trainMax, double trainOverall,
                         double encoderMedian, double allocationsPerStep, double gflopPerImage, double trainPeakRssMib,
                         Map<ProfilingKernels.Op, Double> profile, String gemmSummary, Map<String, String> gemmPaths) {}

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    static final List<Case> DEFAULT_CASES = List.of(new Case("tinyFmnist", 256, 10), new Case("vitTiny32", 128, 10),
            new Case("maeVitBasePatch16", 8, 3));

    /** The most timed (or warm-up) steps one configuration is given. */
    static final int MAX_STEPS = 1_000_000;

    @Option(names = "--config", description = "One preset to measure (default: tinyFmnist B=256, vitTiny32 B=128, maeVitBasePatch16 B=8).")
    String config;
    @Option(names = "--batch", description = "Batch size for --config (default: the preset's benchmark batch).")
    Integer batch;
    @Option(names = "--steps", description = "Timed steps per configuration (default: 10; 3 for maeVitBasePatch16).")
    Integer steps;
    @Option(names = "--warmup", defaultValue = "3", description = "Untimed steps first.")
    int warmup;
    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    Path json;
    @Option(names = "--force", description = "Replace an existing --json file.")
    boolean force;
    @Option(names = "--profile", description = "Time each kind of kernel (adds a little overhead) and print the breakdown.")
    boolean profile;
    @Option(names = "--no-sgemm", description = "Skip the 4096^3 sgemm measurement.")
    boolean noSgemm;
    @Option(names = "--finetune", description = "Time the fine-tuning step instead (as bench_torch.py --finetune: the encoder on all patches, "
            + "global pool, fc_norm, 10-class head, label smoothing 0.1, AdamW (0.9, 0.999) with layer-decay groups; default batch 128).")
    boolean finetune;
    @Option(names = "--embed", description = "Time the Embedder instead: batches of normalized images from one calling thread and from one per core, and a single image's latency (default batch 256).")
    boolean embed;
    @Option(names = "--kernels", description = "Which kernels compute: auto (the fast CPU path where it can run, else portable), fast, "
            + "or portable (ND4J ops only, what a GPU backend runs). Default: -Dmae4j.kernels, else MAE4J_KERNELS, else auto.")
    String kernels;
    @picocli.CommandLine.Mixin
    GemmOption gemm;

    @Override
    public Integer call() throws Exception {
        if (json != null) Outputs.of(force).file("--json", json);
        List<Case> cases;
        if (config == null) {
            if (batch != null) throw new IllegalArgumentException("--batch needs --config");
            cases = steps == null ? DEFAULT_CASES : DEFAULT_CASES.stream().map(c -> new Case(c.preset(), c.batch(), steps)).toList();
        } else {
            MaeConfig.preset(config);   // validates the name
            int b = batch != null ? batch : finetune ? 128 : DEFAULT_CASES.stream().filter(c -> c.preset().equals(config)).mapToInt(Case::batch).findFirst().orElse(32);
            if (b < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + b);
            cases = List.of(new Case(config, b, steps != null ? steps : 10));
        }
        if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        if (steps != null && steps < 1) throw new IllegalArgumentException("--steps must be >= 1 (the timed steps), got " + steps);
        // each timed step's time is kept (an array of them): a million is far past any useful measurement
        if (steps != null && steps > MAX_STEPS) throw new IllegalArgumentException("--steps must be at most " + MAX_STEPS + ", got " + steps);
        if (warmup > MAX_STEPS) throw new IllegalArgumentException("--warmup must be at most " + MAX_STEPS + ", got " + warmup);
        if (batch != null && batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (!embed) for (Case c : cases) c.checkMemory(finetune);
        // --gemm is in force for the JVM by now (GemmOption); AUTO follows it
        if (embed) {
            if (config == null) throw new IllegalArgumentException("--embed needs --config");
            if (profile) throw new IllegalArgumentException("--profile times the kernels of a training step: use it without --embed");
            EmbedBench.run(config, batch != null ? batch : 256, steps != null ? steps : 10, json, System.out);
            return 0;
        }
        if (finetune) {
            if (config == null) throw new IllegalArgumentException("--finetune needs --config");
            FinetuneBench.run(cases.get(0), warmup, kernelsFor(kernelsRequest(), Runtime.getRuntime().availableProcessors(),
                    org.mae4j.engine.VectorSupport.available(), CpuKernels.GemmPath.AUTO), profile, json, System.out);
            return 0;
        }
        run(cases, warmup, !noSgemm, profile, CpuKernels.GemmPath.AUTO, kernelsRequest(), json, System.out);
        return 0;
    }

    private String kernelsRequest() {
        return kernels != null ? kernels : MaskedAutoencoder.kernelsRequest();
    }

    /** The kernels a request (auto, fast, portable) gets here; the fast ones with this thread count and gemm path. */
    static Kernels kernelsFor(String request, int threads, boolean vector, CpuKernels.GemmPath gemmPath) {
        Kernels k = MaskedAutoencoder.defaultKernels(DataType.FLOAT, request);
        return k instanceof CpuKernels ? new CpuKernels(threads, vector, gemmPath) : k;
    }

    /** How the kernels' matrix products run, for the report: GemmChoice's line, plus the backend for the portable kernels. */
    static String gemmSummary(Kernels k) {
        String s = org.mae4j.engine.GemmChoice.describe(k);
        return k instanceof CpuKernels ? s : s + " on " + org.mae4j.engine.Backends.name();
    }

    /** Measures the cases on the fast kernels and prints a table (and JSON when jsonFile is set). */
    public static List<Result> run(List<Case> cases, int warmup, boolean sgemm, boolean profile, CpuKernels.GemmPath gemmPath,
                                   Path jsonFile, PrintStream out) throws IOException {
        return run(cases, warmup, sgemm, profile, gemmPath, "fast", jsonFile, out);
    }

    /** Measures the cases on the requested kernels (auto, fast, portable) and prints a table (and JSON when jsonFile is set). */
    public static List<Result> run(List<Case> cases, int warmup, boolean sgemm, boolean profile, CpuKernels.GemmPath gemmPath,
                                   String kernelsRequest, Path jsonFile, PrintStream out) throws IOException {
        int threads = Runtime.getRuntime().availableProcessors();
        boolean vector = org.mae4j.engine.VectorSupport.available();
        Kernels kernels = kernelsFor(kernelsRequest, threads, vector, gemmPath);
        String mode = kernels instanceof CpuKernels c ? c.gemmMode() : gemmSummary(kernels);
        out.printf(Locale.ROOT, "# mae4j bench: %s, %d cores, java %s, OMP_WAIT_POLICY=%s, OPENBLAS_THREAD_TIMEOUT=%s, OPENBLAS_CORETYPE=%s%n",
                Nd4j.getBackend().getClass().getSimpleName(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getenv("OMP_WAIT_POLICY"), System.getenv("OPENBLAS_THREAD_TIMEOUT"), System.getenv("OPENBLAS_CORETYPE"));
        out.printf(Locale.ROOT, "# kernels: %s%n", kernels instanceof CpuKernels ? "fast (CpuKernels)" : "portable (Nd4jKernels: ND4J ops only)");
        out.printf(Locale.ROOT, "# matrix products: %s%n", mode);
        List<Result> results = new ArrayList<>();
        for (Case c : cases) {
            // kernels of its own per configuration, so that its products (and their paths) are its own
            Result r = measure(c, warmup, profile, kernelsFor(kernelsRequest, threads, vector, gemmPath));
            results.add(r);
            out.printf(Locale.ROOT, "%-18s B=%-4d train %7.1f img/s (min %.1f, max %.1f, overall %.1f; %.0f GFLOP/s)  encoder %7.1f img/s  allocs/step %.1f  peak RSS after training %.0f MiB%n",
                    r.preset(), r.batch(), r.trainMedian(), r.trainMin(), r.trainMax(), r.trainOverall(),
                    r.trainMedian() * r.gflopPerImage(), r.encoderMedian(), r.allocationsPerStep(), r.trainPeakRssMib());
            out.printf(Locale.ROOT, "    matrix products: %s%n", r.gemmSummary());
            r.gemmPaths().forEach((shape, path) -> out.printf(Locale.ROOT, "      %-26s %s%n", shape, path));
            if (r.profile() != null) printProfile(r.profile(), out);
        }
        // After the models, so that its 200 MB of operands do not count in the first configuration's training peak.
        double[] gemm = sgemm ? sgemmGflops(kernels, 4096, 5) : null;
        if (gemm != null) out.printf(Locale.ROOT, "# sgemm 4096x4096x4096 (%s): best %.1f GFLOP/s, median %.1f GFLOP/s%n",
                kernels instanceof CpuKernels ck ? ck.gemmPaths().getOrDefault("M4096 N4096 K4096 NN", "?") : mode, gemm[0], gemm[1]);
        long peak = peakRssKb();
        out.printf(Locale.ROOT, "# peak resident memory of the whole run: %.0f MiB (each configuration's own peak is only exact for the first)%n", peak / 1024.0);
        if (jsonFile != null) writeJson(jsonFile, results, gemm, mode, peak);
        return results;
    }

    /** One line per kind of kernel: seconds per step and share of the profiled time. */
    static void printProfile(Map<ProfilingKernels.Op, Double> secondsPerStep, PrintStream out) {
        double total = secondsPerStep.values().stream().mapToDouble(Double::doubleValue).sum();
        secondsPerStep.forEach((op, s) -> { if (s > 0) out.printf(Locale.ROOT, "    %-14s %8.1f ms/step (%4.1f%%)%n", op, s * 1000, 100 * s / total); });
    }

    /** The profiler's totals since its last reset, per step. */
    static Map<ProfilingKernels.Op, Double> perStep(ProfilingKernels prof, int steps) {
        Map<ProfilingKernels.Op, Double> m = new java.util.EnumMap<>(ProfilingKernels.Op.class);
        for (var e : prof.seconds().entrySet()) m.put(e.getKey(), e.getValue() / steps);
        return m;
    }

    static Result measure(Case c, int warmup, boolean profile, Kernels base) {
        MaeConfig cfg = MaeConfig.preset(c.preset());
        ProfilingKernels prof = profile ? new ProfilingKernels(base) : null;
        Kernels k = profile ? prof : base;
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, k, new Random(0));
        AdamW opt = new AdamW(mae.params(), k, AdamW.Hyper.mae());
        Random data = new Random(0), masks = new Random(1);
        INDArray[] batches = new INDArray[4];   // like bench_torch.py: 4 fixed N(0,1) batches, cycled
        for (int i = 0; i < batches.length; i++) batches[i] = gaussian(data, c.batch(), cfg.channels(), cfg.imageSize());
        double lr = 1.5e-4;

        double[] times = new double[c.steps()];
        long allocBefore = 0;
        for (int s = 0; s < warmup + c.steps(); s++) {
            if (s == warmup) {
                if (prof != null) prof.reset();
                allocBefore = settledPointerCount();
            }
            long t0 = System.nanoTime();
            mae.forward(batches[s % batches.length], masks);
            mae.params().zeroGrad();
            mae.backward();
            opt.step(lr);
            if (s >= warmup) times[s - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        double allocs = (Pointer.totalCount() - allocBefore) / (double) c.steps();
        Map<ProfilingKernels.Op, Double> breakdown = prof == null ? null : perStep(prof, c.steps());
        double trainPeak = peakRssKb() / 1024.0;   // VmHWM: the process's peak so far, before the encoder runs allocate theirs
        double[] enc = new double[Math.max(3, c.steps())];
        for (int s = 0; s < 2 + enc.length; s++) {
            long t0 = System.nanoTime();
            mae.encode(batches[s % batches.length]);
            if (s >= 2) enc[s - 2] = (System.nanoTime() - t0) / 1e9;
        }
        double total = Arrays.stream(times).sum();
        return new Result(c.preset(), c.batch(), c.batch() / median(times), c.batch() / max(times), c.batch() / min(times),
                c.batch() * times.length / total, c.batch() / median(enc), allocs, trainGflopPerImage(cfg), trainPeak, breakdown,
                gemmSummary(base), org.mae4j.engine.GemmChoice.products(base));
    }

    /**
     * Live native allocations (JavaCPP pointers with a deallocator: every ND4J buffer on the CPU backend)
     * after a full GC has run and its deallocations have been processed, so that a later reading minus this
     * one counts the arrays allocated in between.
     */
    static long settledPointerCount() {
        // Three readings in a row unchanged across a GC: one unchanged pair can come before the deallocator has caught up.
        long now = Pointer.totalCount();
        for (int i = 0, stable = 0; i < 60 && stable < 3; i++) {
            System.gc();
            try { Thread.sleep(30); } catch (InterruptedException e) { Thread.currentThread().interrupt(); break; }
            long next = Pointer.totalCount();
            stable = next == now ? stable + 1 : 0;
            now = next;
        }
        return now;
    }

    /** Matmul GFLOP per image of a training step, counted like bench_torch.py (3 x forward; see its README). */
    static double trainGflopPerImage(MaeConfig c) {
        int l = c.numPatches(), k = c.numKept(), d = c.encoder().width(), e = c.decoder().width();
        double f = 2.0 * l * c.patchDim() * d;                                    // patch embedding on all L patches
        f += c.encoder().depth() * block(1 + k, d, c.encoder().mlpHidden());
        f += 2.0 * (1 + k) * d * e;                                               // decoder_embed
        f += c.decoder().depth() * block(1 + l, e, c.decoder().mlpHidden());
        f += 2.0 * (1 + l) * e * c.patchDim();                                    // decoder_pred
        return 3 * f / 1e9;
    }

    private static double block(int t, int w, int hidden) {
        return 2.0 * t * w * (3 * w) + 2.0 * t * w * w + 2.0 * 2 * t * w * hidden + 2.0 * 2 * t * t * w;
    }

    static double[] sgemmGflops(Kernels k, int n, int reps) {
        INDArray a = Nd4j.rand(DataType.FLOAT, n, n), b = Nd4j.rand(DataType.FLOAT, n, n), c = Nd4j.create(DataType.FLOAT, n, n);
        k.gemm(a, false, b, false, c, 1, 0);
        double[] g = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            k.gemm(a, false, b, false, c, 1, 0);
            g[i] = 2.0 * n * n * (double) n / (System.nanoTime() - t0);
        }
        return new double[] {Arrays.stream(g).max().orElse(0), median(g)};
    }

    private static INDArray gaussian(Random r, int n, int c, int size) {
        float[] v = new float[n * c * size * size];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Nd4j.createFromArray(v).reshape(n, c, size, size);
    }

    static double median(double[] x) { double[] s = x.clone(); Arrays.sort(s); int m = s.length / 2; return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2; }
    private static double min(double[] x) { return Arrays.stream(x).min().orElse(Double.NaN); }
    private static double max(double[] x) { return Arrays.stream(x).max().orElse(Double.NaN); }

    /** VmHWM from /proc/self/status in KiB (0 where there is no /proc). */
    static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static void writeJson(Path file, List<Result> results, double[] gemm, String gemmMode, long peakKb) throws IOException {
        StringBuilder j = new StringBuilder("{\n");
        j.append("  \"gemm_mode\": ").append(JSON.writeValueAsString(gemmMode)).append(",\n");
        if (!results.isEmpty()) j.append(String.format(Locale.ROOT, "  \"train_images_per_s\": %.2f,%n", results.get(0).trainMedian()));
        if (gemm != null) j.append(String.format(Locale.ROOT, "  \"sgemm_gflops\": {\"best\": %.1f, \"median\": %.1f},%n", gemm[0], gemm[1]));
        j.append(String.format(Locale.ROOT, "  \"peak_rss_mib\": %.1f,%n", peakKb / 1024.0));
        j.append(String.format(Locale.ROOT, "  \"environment\": {\"cores\": %d, \"java\": \"%s\", \"OMP_WAIT_POLICY\": \"%s\", \"OPENBLAS_THREAD_TIMEOUT\": \"%s\", \"OPENBLAS_CORETYPE\": \"%s\"},%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), System.getenv("OMP_WAIT_POLICY"), System.getenv("OPENBLAS_THREAD_TIMEOUT"), System.getenv("OPENBLAS_CORETYPE")));
        j.append("  \"configs\": [\n");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            j.append(String.format(Locale.ROOT,
                    "    {\"config\": \"%s\", \"batch\": %d, \"train_images_per_s\": %.2f, \"train_min\": %.2f, \"train_max\": %.2f, \"train_overall\": %.2f, \"encoder_images_per_s\": %.2f, \"allocations_per_step\": %.2f, \"gflop_per_image\": %.4f, \"train_peak_rss_mib\": %.1f,%n"
                            + "     \"gemm\": {\"summary\": %s, \"products\": %s}}%s%n",
                    r.preset(), r.batch(), r.trainMedian(), r.trainMin(), r.trainMax(), r.trainOverall(), r.encoderMedian(),
                    r.allocationsPerStep(), r.gflopPerImage(), r.trainPeakRssMib(), JSON.writeValueAsString(r.gemmSummary()),
                    JSON.writeValueAsString(r.gemmPaths()), i + 1 < results.size() ? "," : ""));
        }
        j.append("  ]\n}\n");
        byte[] bytes = j.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        org.mae4j.io.AtomicFiles.write(file, os -> os.write(bytes));
    }
}
