package org.mae4j.examples.viz;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One chart axis: its range, its ticks and the map from data to a fraction of the axis length. Pure.
 * Linear axes snap their ends to "nice" steps (1, 2 or 5 times a power of ten); log axes (base 10) snap to
 * whole decades when the data span at least one, and otherwise use nice linear ticks placed logarithmically,
 * so that a loss between 0.3 and 0.9 still gets more than two labels.
 *
 * @param lo    lower end, in data units (positive on a log axis)
 * @param hi    upper end, in data units, greater than {@code lo}
 * @param log   whether positions follow log10 of the value
 * @param ticks tick values within [lo, hi], ascending
 * @param step  spacing of linear ticks, or 0 on a log axis with decade ticks (used only to format labels)
 */
record Axis(double lo, double hi, boolean log, List<Double> ticks, double step) {

    Axis {
        ticks = List.copyOf(ticks);
    }

    /** The axis for data in [min, max] (finite; positive if {@code log}), aiming at about {@code targetTicks} ticks. */
    static Axis fit(double min, double max, boolean log, int targetTicks) {
        if (!(min <= max) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new IllegalArgumentException("axis range must be finite with min <= max, got [" + min + ", " + max + "]");
        }
        if (log && min <= 0) throw new IllegalArgumentException("log axis needs positive values, got min " + min);
        int target = Math.max(2, targetTicks);
        return log ? logAxis(min, max, target) : linearAxis(min, max, target);
    }

    /** An empty chart's axis: [0, 1] linear, or [0.1, 10] log. */
    static Axis placeholder(boolean log) {
        return log ? logAxis(0.1, 10, 3) : linearAxis(0, 1, 5);
    }

    /** Position of {@code v} along the axis: 0 at {@code lo}, 1 at {@code hi}. */
    double fraction(double v) {
        return log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    }

    /** Tick label: plain decimals at ordinary magnitudes, scientific notation for very large or small ones. */
    String label(double v) {
        if (step == 0) return decade(v);
        if (Math.abs(v) < step * 1e-9) return "0";
        double magnitude = Math.max(Math.abs(lo), Math.abs(hi));
        if (magnitude >= 1e6 || step < 1e-4) {
            int digits = (int) Math.max(0, Math.min(6, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step))));
            return String.format(Locale.ROOT, "%." + digits + "e", v);
        }
        int decimals = (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String decade(double v) {
        int e = (int) Math.round(Math.log10(v));
        if (e < -3 || e > 5) return "1e" + e;
        return BigDecimal.ONE.scaleByPowerOfTen(e).toPlainString();
    }

    private static Axis linearAxis(double min, double max, int target) {
        if (min == max) {
            // A flat series or a single point: open a window around it rather than divide by zero.
            double d = min == 0 ? 0.5 : Math.abs(min) * 0.1;
            min -= d;
            max += d;
        }
        double step = niceStep((max - min) / target);
        double lo = snapDown(min, step), hi = snapUp(max, step);
        return new Axis(lo, hi, false, multiples(lo, hi, step), step);
    }

    private static Axis logAxis(double min, double max, int target) {
        double l0 = Math.log10(min), l1 = Math.log10(max);
        if (l1 - l0 < 1e-9) {
            l0 -= 0.15;   // a flat series: a third of a decade around it
            l1 += 0.15;
        }
        if (l1 - l0 >= 1) {
            int d0 = (int) Math.floor(l0 + 1e-9), d1 = (int) Math.ceil(l1 - 1e-9);
            int every = Math.max(1, (int) Math.ceil((d1 - d0) / (double) target));
            List<Double> ticks = new ArrayList<>();
            for (int e = d0; e <= d1; e++) if (Math.floorMod(e, every) == 0) ticks.add(Math.pow(10, e));
            return new Axis(Math.pow(10, d0), Math.pow(10, d1), true, ticks, 0);
        }
        double lo = Math.pow(10, l0), hi = Math.pow(10, l1);
        double step = niceStep((hi - lo) / target);
        double niceLo = snapDown(lo, step), niceHi = snapUp(hi, step);
        if (niceLo > 0) lo = niceLo;   // never snap a log axis down to zero
        hi = niceHi;
        return new Axis(lo, hi, true, multiples(lo, hi, step), step);
    }

    // The tolerance keeps 0.3 / 0.1 = 2.9999999999999996 from snapping a whole step too far.
    private static double snapDown(double v, double step) { return Math.floor(v / step + 1e-9) * step; }

    private static double snapUp(double v, double step) { return Math.ceil(v / step - 1e-9) * step; }

    /** The multiples of {@code step} in [lo, hi], computed as k*step so that they carry no accumulated error. */
    private static List<Double> multiples(double lo, double hi, double step) {
        List<Double> ticks = new ArrayList<>();
        long k0 = (long) Math.ceil(lo / step - 1e-9), k1 = (long) Math.floor(hi / step + 1e-9);
        for (long k = k0; k <= k1; k++) ticks.add(k == 0 ? 0.0 : k * step);
        return ticks;
    }

    /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        if (!(raw > 0) || !Double.isFinite(raw)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        double nice = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
        return nice * p;
    }
}
