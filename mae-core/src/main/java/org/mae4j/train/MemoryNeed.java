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
        if (largestArray > KERNEL_LIMIT) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: its largest activation would hold %,d floats, more than the kernels' limit of %,d"
                    + " (2 GiB per array); use a smaller batch with --accum for the same effective batch", what, largestArray, KERNEL_LIMIT));
        }
        if (availableBytes > 0 && bytes > availableBytes) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s needs about %.1f GiB of activations, and %.1f GiB of memory is free;"
                    + " use a smaller batch with --accum for the same effective batch", what, bytes / 1073741824.0, availableBytes / 1073741824.0));
        }
    }
}
