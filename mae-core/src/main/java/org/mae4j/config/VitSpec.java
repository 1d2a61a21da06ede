package org.mae4j.config;

/**
 * One stack of ViT blocks: token width, number of blocks, attention heads and MLP expansion.
 *
 * @param width    token width (D for the encoder, E for the decoder)
 * @param depth    number of transformer blocks
 * @param heads    attention heads; must divide width
 * @param mlpRatio MLP hidden width = (int) (width * mlpRatio), as in the reference
 */
public record VitSpec(int width, int depth, int heads, double mlpRatio) {

    public VitSpec {
        if (width <= 0) throw new IllegalArgumentException("width must be positive, got " + width);
        if (depth < 0) throw new IllegalArgumentException("depth must be >= 0, got " + depth);
        if (heads <= 0) throw new IllegalArgumentException("heads must be positive, got " + heads);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width (" + width + ") must be divisible by heads (" + heads
                    + "); valid head counts for this width: " + divisors(width));
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio) || (int) (width * mlpRatio) < 1) {
            throw new IllegalArgumentException("mlpRatio must be positive and give a hidden width >= 1, got " + mlpRatio);
        }
    }

    /** Width of each attention head. */
    public int headDim() { return width / heads; }

    /** Hidden width of the MLP, {@code int(width * mlpRatio)} like the reference. */
    public int mlpHidden() { return (int) (width * mlpRatio); }

    public VitSpec withDepth(int d) { return new VitSpec(width, d, heads, mlpRatio); }

    /** The divisors of n in order; by pairs up to sqrt(n), as counting to n overflowed (and took seconds) near 2^31. */
    private static String divisors(int n) {
        java.util.TreeSet<Integer> d = new java.util.TreeSet<>();
        for (int i = 1; i <= n / i; i++) {
            if (n % i == 0) { d.add(i); d.add(n / i); }
        }
        StringBuilder b = new StringBuilder();
        for (int x : d) b.append(b.length() == 0 ? "" : ", ").append(x);
        return b.toString();
    }
}
