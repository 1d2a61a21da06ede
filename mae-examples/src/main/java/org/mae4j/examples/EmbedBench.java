package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.embed.Embedder;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code ./mae bench --embed}: the {@link Embedder}'s throughput on already-normalized batches of N(0,1) images
 * (as bench_torch.py --encoder-only feeds PyTorch's encoder), single-threaded calls and one calling thread per
 * core sharing one Embedder, and the latency of a single image.
 */
final class EmbedBench {
    private EmbedBench() {}

    static void run(String preset, int batch, int steps, Path json, PrintStream out) throws IOException, Exception {
        MaeConfig cfg = MaeConfig.preset(preset);
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, new Random(0));
        Embedder e = Embedder.of(cfg, mae.params(), Normalization.defaultFor(cfg.channels())).withBatchSize(batch);
        Random r = new Random(1);
        INDArray x = Nd4j.randn(r.nextLong(), new long[] {batch, cfg.channels(), cfg.imageSize(), cfg.imageSize()}).castTo(DataType.FLOAT);
        INDArray one = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup();
        for (int i = 0; i < 2; i++) e.embed(x);   // warm up
        double single = batch / median(steps, () -> e.embed(x));
        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        double parallel;
        try {
            for (int i = 0; i < threads; i++) pool.submit(() -> e.embed(x)).get();   // each thread's activations allocated
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) fs.add(pool.submit(() -> { for (int s = 0; s < steps; s++) e.embed(x); }));
            for (Future<?> f : fs) f.get();
            parallel = (double) batch * steps * threads / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdown();
        }
        for (int i = 0; i < 3; i++) e.embed(one);
        double latencyMs = 1000 * median(Math.max(steps, 10), () -> e.embed(one));
        out.printf(Locale.ROOT, "%-18s embed B=%d: %.1f img/s one calling thread, %.1f img/s with %d calling threads; one image %.1f ms%n",
                preset, batch, single, parallel, threads, latencyMs);
        if (json != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("preset", preset);
            m.put("mode", "embed");
            m.put("batch", batch);
            m.put("images_per_s_one_thread", single);
            m.put("images_per_s_threads", parallel);
            m.put("threads", threads);
            m.put("single_image_ms", latencyMs);
            Json.write(json, m);
        }
    }

    /** Median seconds of n calls. */
    private static double median(int n, Runnable call) {
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            call.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[n / 2];
    }
}
