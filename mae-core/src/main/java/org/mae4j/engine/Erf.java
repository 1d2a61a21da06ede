package org.mae4j.engine;

/** The error function, which Java's Math lacks; accurate to ~1.2e-7 relative in erfc (plenty for float32). */
final class Erf {
    private Erf() {}

    /**
     * erf(x) via the Chebyshev fit of erfc (Numerical Recipes' {@code erfcc}), whose fractional error is
     * below 1.2e-7 everywhere; the exact-erf GELU of the reference needs no better in float32.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
