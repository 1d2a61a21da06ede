package org.mae4j.distributed;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A quick measurement (not a test): the time of one all-reduce of N floats between W ranks run as threads of
 * this JVM over loopback TCP. Arguments: floats (default 5809936, tinyFmnist's parameters + loss/stop), ranks
 * (default 2), repetitions (default 10, after 2 untimed).
 */
public final class AllReduceTiming {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5_809_938;
        int w = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        List<Ranks.Outcome<double[]>> out = Ranks.asThreads(w, Duration.ofSeconds(120), c -> {
            float[] buf = new float[n];
            double[] ms = new double[reps];
            for (int i = -2; i < reps; i++) {
                Arrays.fill(buf, 1f);
                c.barrier();
                long t0 = System.nanoTime();
                c.allReduceSum(buf, n);
                if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
                if (buf[n - 1] != w) throw new IllegalStateException("sum " + buf[n - 1]);
            }
            return ms;
        });
        double[] ms = Ranks.values(out).get(0);
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "all-reduce of %d floats (%.1f MB) between %d ranks (threads, loopback): median %.0f ms, min %.0f, max %.0f over %d%n",
                n, n * 4 / 1e6, w, ms[ms.length / 2], ms[0], ms[ms.length - 1], ms.length);
        System.exit(0);
    }
}
