package org.mae4j.io;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes and reads back a checkpoint of one tensor of n floats with two optimizer buffers of n floats (AdamW's
 * moments), then checks values at both ends and in the middle; prints the peak heap. Run in a child JVM with a
 * small -Xmx by {@link CheckpointStreamingTest}, and by hand for sizes past 2^31 bytes (docs/reliability.md):
 * {@code java -Xmx1g -cp ... org.mae4j.io.BigCheckpoint 600000000 /tmp/big.zip}.
 */
public final class BigCheckpoint {
    public static void main(String[] args) throws Exception {
        long n = Long.parseLong(args[0]);
        Path file = Path.of(args[1]);
        ParamStore s = ParamStore.builder().add("big.weight", true, n).build(DataType.FLOAT);
        INDArray p = s.flatParams();
        p.assign(0.25);
        long[] probes = {0, 1, n / 2, n - 2, n - 1};
        for (long i : probes) p.putScalar(i, i % 1000 + 0.5f);
        Map<String, INDArray> buffers = new LinkedHashMap<>();
        buffers.put("exp_avg", Nd4j.valueArrayOf(new long[] {n}, 0.125f));
        buffers.put("exp_avg_sq", Nd4j.valueArrayOf(new long[] {n}, 0.0625f));
        for (long i : probes) buffers.get("exp_avg_sq").putScalar(i, -(i % 777) - 0.5f);
        long t0 = System.nanoTime();
        Checkpoint.save(file, new Checkpoint.Contents("pretrain", MaeConfig.micro(), Map.of(), null, s, new Checkpoint.State(1, 2, 3, 4, 5),
                new Checkpoint.OptimizerState("AdamW", Map.of("beta1", 0.9), 2, buffers), Map.of(), Map.of(), Checkpoint.FORMAT_VERSION));
        double writeS = (System.nanoTime() - t0) / 1e9;
        buffers.clear();
        s = null;
        p = null;
        System.gc();
        long t1 = System.nanoTime();
        Checkpoint.Contents c = Checkpoint.load(file);
        double readS = (System.nanoTime() - t1) / 1e9;
        INDArray q = c.params().flatParams(), m2 = c.optimizer().buffers().get("exp_avg_sq"), m1 = c.optimizer().buffers().get("exp_avg");
        for (long i : probes) {
            check(q.getFloat(i), i % 1000 + 0.5f, "param " + i);
            check(m2.getFloat(i), -(i % 777) - 0.5f, "exp_avg_sq " + i);
            check(m1.getFloat(i), 0.125f, "exp_avg " + i);
        }
        check(q.getFloat(n / 3), 0.25f, "param " + n / 3);
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) if (pool.getType() == MemoryType.HEAP) peak += pool.getPeakUsage().getUsed();
        System.out.printf(java.util.Locale.ROOT, "ok: %d floats per tensor, file %d bytes, write %.1f s, read %.1f s, peak heap %d MiB (max %d MiB)%n",
                n, Files.size(file), writeS, readS, peak >> 20, Runtime.getRuntime().maxMemory() >> 20);
    }

    private static void check(float got, float want, String what) {
        if (got != want) throw new AssertionError(what + ": " + got + " != " + want);
    }
}
