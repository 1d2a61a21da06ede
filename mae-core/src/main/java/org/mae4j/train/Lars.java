package org.mae4j.train;

import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LARS as the reference's {@code util/lars.py} (used by its linear probing), over every trainable tensor of
 * a {@link ParamStore}. Per tensor p with gradient g:
 * <pre>
 *   d = g
 *   if p has more than one dimension:                # weights; biases and norm parameters are left alone
 *       d = g + weight_decay * p
 *       q = trust_coefficient * ||p|| / ||d||        # Frobenius norms; q = 1 when ||p|| or ||d|| is 0
 *       d = q * d
 *   mu = momentum * mu + d                           # mu starts at 0
 *   p  = p - lr * mu
 * </pre>
 * Weight decay applies only to tensors with more than one dimension, as in the reference (its {@code
 * dp.add(p, alpha=weight_decay)} sits inside the {@code ndim > 1} branch). The momentum buffer is one flat
 * buffer in the store's layout (zero for frozen tensors), saved as {@code "momentum"}.
 */
public final class Lars implements Optimizer {

    /** Hyper-parameters; {@link #reference()} is util/lars.py's defaults. */
    public record Hyper(double weightDecay, double momentum, double trustCoefficient) {
        public Hyper {
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
            if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
            if (!(trustCoefficient > 0) || Double.isInfinite(trustCoefficient)) throw new IllegalArgumentException("trust coefficient must be finite and > 0, got " + trustCoefficient);
        }
        /** weight decay 0, momentum 0.9, trust coefficient 0.001 (util/lars.py; main_linprobe.py's --weight_decay default is 0). */
        public static Hyper reference() { return new Hyper(0, 0.9, 0.001); }
        public Hyper withWeightDecay(double wd) { return new Hyper(wd, momentum, trustCoefficient); }
    }

    /** One trainable tensor's views: parameter, gradient, momentum, update scratch (same shape). */
    private record Slot(String name, boolean matrix, INDArray p, INDArray g, INDArray mu, INDArray d) {}

    private final ParamStore store;
    private final Hyper hyper;
    private final INDArray mu, scratch;   // [total], the store's layout
    private final List<Slot> slots = new ArrayList<>();
    private final double[] lastTrust;     // q of the last step per slot (1 for tensors without a trust ratio)
    private long step;

    public Lars(ParamStore store, Hyper hyper) {
        this.store = store;
        this.hyper = hyper;
        this.mu = Nd4j.create(store.dataType(), store.numScalars());
        this.scratch = Nd4j.create(store.dataType(), store.numScalars());
        for (ParamStore.Entry e : store.entries()) {
            if (!e.trainable()) continue;
            slots.add(new Slot(e.name(), e.rank() > 1, flat(store.flatParams(), e), flat(store.flatGrads(), e), flat(mu, e), flat(scratch, e)));
        }
        if (slots.isEmpty()) throw new IllegalArgumentException("LARS needs at least one trainable tensor; the store has none");
        lastTrust = new double[slots.size()];
        java.util.Arrays.fill(lastTrust, Double.NaN);
    }

    private static INDArray flat(INDArray buffer, ParamStore.Entry e) {
        return buffer.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(e.offset(), e.offset() + e.length()));
    }

    @Override public String name() { return "LARS"; }

    /** One update of every trainable tensor with learning rate lr, from the current gradients. */
    @Override public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            INDArray d = s.d().assign(s.g());
            double q = 1;
            if (s.matrix()) {
                if (hyper.weightDecay() != 0) d.addi(s.p().mul(hyper.weightDecay()));
                double pn = s.p().norm2Number().doubleValue(), dn = d.norm2Number().doubleValue();
                if (pn > 0 && dn > 0) q = hyper.trustCoefficient() * pn / dn;
                d.muli(q);
            }
            lastTrust[i] = q;
            s.mu().muli(hyper.momentum()).addi(d);
            s.p().subi(d.assign(s.mu()).muli(lr));
        }
        step++;
    }

    /**
     * The trust ratio q of the last step for a trainable tensor (1 for tensors of one dimension, which get
     * none; NaN before the first step): for logs and tests.
     */
    public double lastTrustRatio(String name) {
        for (int i = 0; i < slots.size(); i++) if (slots.get(i).name().equals(name)) return lastTrust[i];
        throw new IllegalArgumentException("'" + name + "' is not a trainable tensor of this store");
    }

    @Override public long stepCount() { return step; }

    @Override public Map<String, Double> hyperParameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("weight_decay", hyper.weightDecay());
        h.put("momentum", hyper.momentum());
        h.put("trust_coefficient", hyper.trustCoefficient());
        return h;
    }

    /** {@code "momentum"}: the flat momentum buffer [total], live. */
    @Override public Map<String, INDArray> state() {
        Map<String, INDArray> s = new LinkedHashMap<>();
        s.put("momentum", mu);
        return s;
    }

    @Override public void restore(long stepCount, Map<String, INDArray> state) {
        INDArray m = state.get("momentum");
        if (m == null) throw new IllegalArgumentException("LARS state needs 'momentum', got " + state.keySet());
        if (m.length() != mu.length()) throw new IllegalArgumentException("LARS momentum has " + m.length() + " values, this model " + mu.length());
        if (stepCount < 0) throw new IllegalArgumentException("negative step count " + stepCount);
        mu.assign(m.reshape(mu.length()).castTo(mu.dataType()));
        step = stepCount;
    }

    public Hyper hyper() { return hyper; }
    public ParamStore store() { return store; }
}
