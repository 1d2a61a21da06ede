package org.mae4j.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Central finite differences against the analytic gradients of a model's flat parameters (double precision). */
public final class FiniteDifferences {

    /** A DOUBLE array of N(0, 1) draws from the caller's generator (ND4J's own generator is not seeded here). */
    public static org.nd4j.linalg.api.ndarray.INDArray gaussian(java.util.Random rng, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian();
        return org.nd4j.linalg.factory.Nd4j.createFromArray(v).reshape(shape);
    }

    private FiniteDifferences() {}

    /** The worst relative error and where it occurred. */
    public record Result(double worst, String at) {}

    /**
     * Probes {@code probes} random elements of every tensor: |numeric - analytic| / max(|numeric| + |analytic|, floor),
     * with numeric = (loss(p + h) - loss(p - h)) / 2h, h = 1e-6. Frozen tensors must have an analytic gradient of exactly 0.
     *
     * @param analytic the flat gradients of the unperturbed parameters
     * @param loss     recomputes the loss from the current parameters
     */
    public static Result check(ParamStore store, INDArray analytic, DoubleSupplier loss, int probes, double floor, Random rng) {
        double h = 1e-6, worst = 0;
        String at = "";
        INDArray flat = store.flatParams();
        for (ParamStore.Entry e : store.entries()) {
            for (int probe = 0; probe < probes; probe++) {
                long i = e.offset() + (long) (rng.nextDouble() * e.length());
                double orig = flat.getDouble(i);
                flat.putScalar(i, orig + h);
                double up = loss.getAsDouble();
                flat.putScalar(i, orig - h);
                double down = loss.getAsDouble();
                flat.putScalar(i, orig);
                double fd = (up - down) / (2 * h), an = analytic.getDouble(i);
                if (!e.trainable()) {
                    assertEquals(0, an, e.name() + " is frozen but got a gradient");
                    continue;
                }
                double err = Math.abs(fd - an) / Math.max(floor, Math.abs(fd) + Math.abs(an));
                if (err > worst) { worst = err; at = e.name() + "[" + (i - e.offset()) + "] analytic " + an + " numeric " + fd; }
            }
        }
        return new Result(worst, at);
    }
}
