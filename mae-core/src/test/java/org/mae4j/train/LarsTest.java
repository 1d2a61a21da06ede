package org.mae4j.train;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Lars} against the update of util/lars.py written out in double loops here (the linprobe-s4 fixture
 * in src/test covers weight decay 0 only), the zero-norm cases, frozen tensors, and state save/restore.
 */
class LarsTest {

    /** w [3, 4] (trust ratio, weight decay), b [3] (neither), a frozen table [2, 2] in between. */
    private static ParamStore store(Random r) {
        ParamStore s = ParamStore.builder().add("w", true, 3, 4).add("table", false, 2, 2).add("b", true, 3).build(DataType.DOUBLE);
        for (String k : new String[] {"w", "table", "b"}) {
            INDArray p = s.param(k);
            for (long i = 0; i < p.length(); i++) p.putScalar(i, r.nextGaussian());
        }
        return s;
    }

    private static void randomGrads(ParamStore s, Random r) {
        for (String k : new String[] {"w", "b"}) {
            INDArray g = s.grad(k);
            for (long i = 0; i < g.length(); i++) g.putScalar(i, r.nextGaussian() * 0.1);
        }
    }

    @Test
    void updatesAsTheReferenceWithWeightDecay() {
        double wd = 0.05, mom = 0.9, tc = 0.001;
        ParamStore s = store(new Random(1));
        Lars lars = new Lars(s, new Lars.Hyper(wd, mom, tc));
        double[] w = s.param("w").dup().reshape(12).toDoubleVector(), b = s.param("b").toDoubleVector();
        double[] table = s.param("table").dup().reshape(4).toDoubleVector();
        double[] muW = new double[12], muB = new double[3];
        Random gr = new Random(2);
        double[] lrs = {0.5, 2.0, 1.0};
        for (double lr : lrs) {
            randomGrads(s, gr);
            double[] gw = s.grad("w").dup().reshape(12).toDoubleVector(), gb = s.grad("b").toDoubleVector();
            double pn = 0, dn = 0;
            double[] dw = new double[12];
            for (int i = 0; i < 12; i++) { dw[i] = gw[i] + wd * w[i]; pn += w[i] * w[i]; dn += dw[i] * dw[i]; }
            double q = tc * Math.sqrt(pn) / Math.sqrt(dn);
            for (int i = 0; i < 12; i++) { muW[i] = mom * muW[i] + q * dw[i]; w[i] -= lr * muW[i]; }
            for (int i = 0; i < 3; i++) { muB[i] = mom * muB[i] + gb[i]; b[i] -= lr * muB[i]; }   // no decay, no trust ratio
            lars.step(lr);
            assertEquals(q, lars.lastTrustRatio("w"), 1e-15 * q);
            assertEquals(1.0, lars.lastTrustRatio("b"));
        }
        assertArrayEquals(w, s.param("w").dup().reshape(12).toDoubleVector(), 1e-14);
        assertArrayEquals(b, s.param("b").toDoubleVector(), 1e-14);
        assertArrayEquals(table, s.param("table").dup().reshape(4).toDoubleVector(), 0.0, "frozen tensors never move");
        assertArrayEquals(new double[4], lars.state().get("momentum").get(org.nd4j.linalg.indexing.NDArrayIndex.interval(12, 16)).toDoubleVector(), 0.0,
                "no momentum for frozen tensors");
        assertEquals(3, lars.stepCount());
        assertEquals(Map.of("weight_decay", wd, "momentum", mom, "trust_coefficient", tc), lars.hyperParameters());
    }

    @Test
    void zeroNormsGiveATrustRatioOfOne() {
        ParamStore s = store(new Random(3));
        s.param("w").assign(0);                      // ||p|| = 0: the full gradient goes through (q = 1)
        Lars lars = new Lars(s, Lars.Hyper.reference());
        randomGrads(s, new Random(4));
        double[] gw = s.grad("w").dup().reshape(12).toDoubleVector();
        lars.step(0.1);
        assertEquals(1.0, lars.lastTrustRatio("w"));
        double[] w = s.param("w").dup().reshape(12).toDoubleVector();
        for (int i = 0; i < 12; i++) assertEquals(-0.1 * gw[i], w[i], 1e-15);

        ParamStore t = store(new Random(5));         // ||d|| = 0: q = 1, and the weight keeps its value
        double[] before = t.param("w").dup().reshape(12).toDoubleVector();
        Lars l2 = new Lars(t, Lars.Hyper.reference());
        l2.step(0.1);
        assertEquals(1.0, l2.lastTrustRatio("w"));
        assertArrayEquals(before, t.param("w").dup().reshape(12).toDoubleVector(), 0.0);
    }

    @Test
    void restoredStateContinuesIdentically() {
        ParamStore a = store(new Random(6)), b = store(new Random(6));
        Lars la = new Lars(a, Lars.Hyper.reference()), lb = new Lars(b, Lars.Hyper.reference());
        Random ga = new Random(7);
        for (int t = 0; t < 2; t++) { randomGrads(a, ga); la.step(1.0); }
        b.flatParams().assign(a.flatParams());
        lb.restore(la.stepCount(), Map.of("momentum", la.state().get("momentum").dup()));
        assertEquals(2, lb.stepCount());
        Random g1 = new Random(8), g2 = new Random(8);
        randomGrads(a, g1);
        randomGrads(b, g2);
        la.step(0.7);
        lb.step(0.7);
        assertArrayEquals(a.flatParams().toDoubleVector(), b.flatParams().toDoubleVector(), 0.0);
        var e = assertThrows(IllegalArgumentException.class, () -> lb.restore(1, Map.of("exp_avg", a.flatParams())));
        assertTrue(e.getMessage().contains("momentum"), e.getMessage());
    }

    @Test
    void badHyperParametersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Lars.Hyper(-1, 0.9, 0.001));
        assertThrows(IllegalArgumentException.class, () -> new Lars.Hyper(0, 1.0, 0.001));
        var e = assertThrows(IllegalArgumentException.class, () -> new Lars.Hyper(0, 0.9, 0));
        assertTrue(e.getMessage().contains("trust coefficient"), e.getMessage());
        Lars l = new Lars(store(new Random(9)), Lars.Hyper.reference());
        assertThrows(IllegalArgumentException.class, () -> l.step(Double.NaN));
        assertTrue(Double.isNaN(l.lastTrustRatio("w")), "no step yet");
        assertThrows(IllegalArgumentException.class, () -> l.lastTrustRatio("table"));
    }
}
