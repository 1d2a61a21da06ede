package org.mae4j.engine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Times the Java kernel alone, one product shape at a time, on one thread (thread CPU time, so other work on the
 * machine counts less than in wall time): per shape the median of 15 samples, GFLOP/s, and a hash of C's bits,
 * so two builds of the kernel can be compared for speed and for bit-identical results.
 * Arguments: shapes as GemmChoice writes them ("M12800 N96 K384 NN"). Not a test: run by docs/bench/gemm_probe.sh.
 */
public final class GemmProbe {
    public static void main(String[] args) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        VectorGemm.Packs p = new VectorGemm.Packs();
        for (String spec : args) {
            java.util.regex.Matcher f = java.util.regex.Pattern.compile("M(\\d{1,5}) N(\\d{1,5}) K(\\d{1,5}) ([NT])([NT])").matcher(spec.trim());
            if (!f.matches()) {
                System.err.println("gemm_probe: bad shape '" + spec + "': expected e.g. 'M12800 N96 K384 NT' (sizes up to 99999, N plain / T transposed)");
                System.exit(2);
            }
            int m = Integer.parseInt(f.group(1)), n = Integer.parseInt(f.group(2)), k = Integer.parseInt(f.group(3));
            boolean ta = f.group(4).equals("T"), tb = f.group(5).equals("T");
            if (Math.max((long) m * k, Math.max((long) k * n, (long) m * n)) > (1 << 28)) {
                System.err.println("gemm_probe: shape '" + spec + "' is too big for this probe (an operand over 2^28 floats)");
                System.exit(2);
            }
            SplittableRandom r = new SplittableRandom(7);
            FloatBuffer a = fill(m * k, r), b = fill(k * n, r);
            FloatBuffer c = ByteBuffer.allocateDirect(4 * m * n).order(ByteOrder.nativeOrder()).asFloatBuffer();   // off-heap, as ND4J's arrays
            int lda = ta ? m : k, ldb = tb ? k : n;
            long flops = 2L * m * n * k;
            int reps = (int) Math.max(3, Math.min(200, 4e8 / flops));
            for (int w = 0; w < 3; w++) VectorGemm.gemmRows(a, lda, ta, b, ldb, tb, c, n, 0, m, n, k, 1f, 0f, p);
            long[] t = new long[15];
            for (int s = 0; s < t.length; s++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int q = 0; q < reps; q++) VectorGemm.gemmRows(a, lda, ta, b, ldb, tb, c, n, 0, m, n, k, 1f, 0f, p);
                t[s] = (mx.getCurrentThreadCpuTime() - t0) / reps;
            }
            Arrays.sort(t);
            long h = 0;
            for (int i = 0; i < m * n; i++) h = h * 31 + Float.floatToRawIntBits(c.get(i));
            System.out.printf("%-22s %10.1f us %6.1f GFLOP/s  hash %016x%n", spec, t[7] / 1e3, flops / (double) t[7], h);
        }
    }

    static FloatBuffer fill(int len, SplittableRandom r) {
        FloatBuffer f = ByteBuffer.allocateDirect(4 * len).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < len; i++) f.put(i, (float) (r.nextDouble() * 2 - 1));
        return f;
    }
}
