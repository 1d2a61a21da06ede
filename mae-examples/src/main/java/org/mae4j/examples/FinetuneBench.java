package org.mae4j.examples;

import org.bytedeco.javacpp.Pointer;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Mixup;
import org.mae4j.engine.ProfilingKernels;
import org.mae4j.finetune.FineTuning;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.AdamW;
import org.mae4j.train.MicroBatch;
import org.mae4j.train.ParamGroups;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code ./mae bench --finetune}: the engine's fine-tuning step timed as {@code bench_torch.py --finetune} times
 * PyTorch's (the same model, batch, loss and optimizer; 4 fixed N(0,1) batches with fixed labels, cycled):
 * zero the gradients, {@link FineTuning#forwardBackward}, the AdamW step.
 */
final class FinetuneBench {
    private FinetuneBench() {}

    static void run(BenchCommand.Case c, int warmup, org.mae4j.engine.Kernels base, boolean profile, Path json, PrintStream out) throws IOException {
        MaeConfig cfg = MaeConfig.preset(c.preset());
        ProfilingKernels prof = profile ? new ProfilingKernels(base) : null;
        org.mae4j.engine.Kernels k = profile ? prof : base;
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, k, new Random(0));
        VitClassifier model = VitClassifier.fromEncoder(cfg, mae.params(), VitClassifier.Spec.of(10), k, new Random(1));
        FineTuning job = new FineTuning(model, Mixup.off(0.1), 0.1, List.of());
        AdamW opt = new AdamW(model.params(), k, AdamW.Hyper.finetune(),
                ParamGroups.layerDecay(model.params().entries(), 0.75, 0.05, cfg.encoder().depth(), ParamGroups.VIT_NO_WEIGHT_DECAY));
        Random data = new Random(0);
        int len = cfg.channels() * cfg.imageSize() * cfg.imageSize();
        float[][] images = new float[4][c.batch() * len];
        int[][] labels = new int[4][c.batch()];
        for (int b = 0; b < 4; b++) {
            for (int i = 0; i < images[b].length; i++) images[b][i] = (float) data.nextGaussian();
            for (int i = 0; i < c.batch(); i++) labels[b][i] = data.nextInt(10);
        }
        double[] times = new double[c.steps()];
        long allocBefore = 0;
        for (int s = 0; s < warmup + c.steps(); s++) {
            if (s == warmup) {
                if (prof != null) prof.reset();
                allocBefore = BenchCommand.settledPointerCount();
            }
            long t0 = System.nanoTime();
            model.params().zeroGrad();
            job.forwardBackward(new MicroBatch(images[s % 4], labels[s % 4], c.batch(), 0, c.batch(), 0, s, 0));
            opt.step(5e-4);
            if (s >= warmup) times[s - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        double allocs = (Pointer.totalCount() - allocBefore) / (double) c.steps();
        double[] sorted = times.clone();
        Arrays.sort(sorted);
        double median = c.batch() / sorted[sorted.length / 2], overall = c.batch() * times.length / Arrays.stream(times).sum();
        double gflop = gflopPerImage(cfg, 10);
        out.printf(Locale.ROOT, "%-18s B=%-4d finetune %7.1f img/s (overall %.1f; %.0f GFLOP/s at the median)  allocs/step %.1f%n",
                c.preset(), c.batch(), median, overall, median * gflop, allocs);
        out.printf(Locale.ROOT, "    matrix products: %s%n", BenchCommand.gemmSummary(k));
        Map<ProfilingKernels.Op, Double> breakdown = prof == null ? null : BenchCommand.perStep(prof, c.steps());
        if (breakdown != null) BenchCommand.printProfile(breakdown, out);
        if (json != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("preset", c.preset());
            m.put("mode", "finetune");
            m.put("batch", c.batch());
            m.put("median_images_per_s", median);
            m.put("overall_images_per_s", overall);
            m.put("gflop_per_image", gflop);
            m.put("allocations_per_step", allocs);
            m.put("gemm", BenchCommand.gemmSummary(k));
            if (breakdown != null) {
                Map<String, Double> ms = new LinkedHashMap<>();
                breakdown.forEach((op, sec) -> ms.put(op.name(), sec * 1000));
                m.put("profile_ms_per_step", ms);
            }
            Json.write(json, m);
        }
    }

    /** As bench_torch.py's finetune_flops_per_image: 3 x (the encoder on 1 + L tokens + the head). */
    static double gflopPerImage(MaeConfig c, int classes) {
        int l = c.numPatches(), d = c.encoder().width(), h = c.encoder().mlpHidden(), t = 1 + l;
        double f = 2.0 * l * c.patchDim() * d;
        f += c.encoder().depth() * (2.0 * t * d * (3 * d) + 2.0 * t * d * d + 2.0 * 2 * t * d * h + 2.0 * 2 * t * t * d);
        return 3 * (f + 2.0 * d * classes) / 1e9;
    }
}
