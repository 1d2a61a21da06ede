package org.mae4j.engine;

/** The error function, which Java's Math lacks. */
final class Erf {
    private Erf() {}

    /**
     * Abramowitz &amp; Stegun 7.1.26, |error| &lt;= 1.5e-7: below float32 resolution near erf = +-1, and the
     * same formula as the Vector API loops use, so both CPU paths agree. Evaluated in double.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * z);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1 - poly * Math.exp(-z * z);
        return x >= 0 ? r : -r;
    }
}
