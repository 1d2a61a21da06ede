package org.mae4j.train;

import java.util.Locale;

/**
 * What a micro-batch's activations need, estimated from the model's shapes before anything is allocated, so
 * that a batch that cannot fit is refused at once with the figures (instead of an out-of-memory crash or an
 * index overflow an hour in).
 *
 * @param bytes        all activation buffers of a forward + backward, in bytes
 * @param largestArray elements of the largest single activation array
 */
public record MemoryNeed(long bytes, long largestArray) {
    /** The fast kernels address an array's bytes with an int: 2^31 bytes of float32 is their limit. */
    public static final long KERNEL_LIMIT = (1L << 31) / 4 - 16;

    /** One transformer stack's activations for n sequences of t tokens (the buffers TransformerBlock keeps per block). */
    public static MemoryNeed blocks(long n, long t, int width, int hidden, int heads, int depth) {
        long rows = Math.multiplyExact(n, t);
        long perBlock = Math.addExact(Math.multiplyExact(rows, 12L * width + 3L * hidden), Math.multiplyExact(Math.multiplyExact(n * heads, t), 2 * t));
        long largest = Math.max(Math.multiplyExact(rows, Math.max(hidden, 3L * width)), Math.multiplyExact(n * heads, t * t));
        return new MemoryNeed(Math.multiplyExact(4L * depth, perBlock), largest);
    }

    public MemoryNeed plus(MemoryNeed o) { return new MemoryNeed(Math.addExact(bytes, o.bytes), Math.max(largestArray, o.largestArray)); }

    /**
     * Refuses what cannot fit: an array past the kernels' limit, or more bytes than this machine has free.
     *
     * @param what        the batch as the user set it, for the message ("--batch 60000")
     * @param availableBytes free physical memory (or another limit)
     */
    public void check(String what, long availableBytes) {
        check(what, availableBytes, "use a smaller batch with --accum for the same effective batch");
    }

    /** As {@link #check(String, long)}, with the advice that ends the message ("use a smaller --image-size"). */
    public void check(String what, long availableBytes, String advice) {
        if (largestArray > KERNEL_LIMIT) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: its largest activation would hold %,d floats, more than the kernels' limit of %,d"
                    + " (2 GiB per array); %s", what, largestArray, KERNEL_LIMIT, advice));
        }
        if (availableBytes > 0 && bytes > availableBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s needs about %.1f GiB of activations, and %.1f GiB of memory is free;"
                    + " %s", what, bytes / 1073741824.0, availableBytes / 1073741824.0, advice));
        }
    }

    /**
     * What an encoder's inference (embedding, features, reconstruction) of n images of cfg holds at once, from
     * the shapes alone: the input batch, the position table and one block's activations (inference keeps no
     * block's buffers for a backward pass). Sizes too large for a long are reported as such.
     *
     * @param what    the size as the user set it, for the message ("--image-size 100000, --batch 64")
     * @param advice  what to change, ending the message
     */
    public static void checkInference(org.mae4j.config.MaeConfig cfg, long n, String what, String advice) {
        var e = cfg.encoder();
        MemoryNeed need;
        try {
            long tokens = 1 + (long) cfg.gridSize() * cfg.gridSize();
            long pixels = Math.multiplyExact(n, (long) cfg.channels() * cfg.imageSize() * cfg.imageSize());
            // the Java-side input buffer of a batch is one float[]: an int-indexed array
            if (pixels > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: one batch would hold %,d pixel values, more than a Java array holds (%,d); %s",
                        what, pixels, Integer.MAX_VALUE - 8, advice));
            }
            MemoryNeed pos = new MemoryNeed(Math.multiplyExact(3 * 4L, Math.multiplyExact(tokens, e.width())), tokens * e.width());   // source, resampled, in use
            need = blocks(n, tokens, e.width(), (int) (e.width() * e.mlpRatio()), e.heads(), 1).plus(pos).plus(new MemoryNeed(4 * pixels, pixels));
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException(what + ": its activations would not even have a size that fits in a long; " + advice);
        }
        if (4 * n * cfg.channels() * (long) cfg.imageSize() * cfg.imageSize() > Runtime.getRuntime().maxMemory()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: one batch of pixels needs %.1f GiB of Java heap, and the JVM has %.1f GiB (-Xmx); %s",
                    what, 4.0 * n * cfg.channels() * cfg.imageSize() * cfg.imageSize() / 1073741824.0, Runtime.getRuntime().maxMemory() / 1073741824.0, advice));
        }
        need.check(what, org.bytedeco.javacpp.Pointer.availablePhysicalBytes(), advice);
    }
}
