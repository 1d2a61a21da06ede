package org.mae4j.train;

import org.mae4j.engine.Kernels;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay over a {@link ParamStore}'s flat buffers, matching PyTorch's
 * {@code torch.optim.AdamW} (no amsgrad): the moments are flat buffers of the same layout, and the update
 * runs once per maximal run of neighbouring tensors that share a decay setting (a few dozen calls a step).
 */
public final class AdamW implements Optimizer {

    /** Hyper-parameters; the defaults are MAE pre-training's. */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay) {
        public Hyper {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
            if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
        /** betas (0.9, 0.95), eps 1e-8, weight decay 0.05. */
        public static Hyper mae() { return new Hyper(0.9, 0.95, 1e-8, 0.05); }
        public Hyper withWeightDecay(double wd) { return new Hyper(beta1, beta2, eps, wd); }
    }

    /** A run of neighbouring tensors [from, to) in the flat buffers with one decay setting. */
    private record Range(long from, long to, boolean decay) {}

    private final ParamStore store;
    private final Kernels k;
    private final Hyper hyper;
    private final INDArray m, v;
    private final List<Range> ranges = new ArrayList<>();
    private final List<INDArray[]> views = new ArrayList<>();   // per range: p, g, m, v
    private long step;

    public AdamW(ParamStore store, Kernels k, Hyper hyper) {
        this.store = store;
        this.k = k;
        this.hyper = hyper;
        this.m = Nd4j.create(store.dataType(), store.numScalars());
        this.v = Nd4j.create(store.dataType(), store.numScalars());
        Range open = null;
        for (ParamStore.Entry e : store.entries()) {
            if (!e.trainable()) { if (open != null) { ranges.add(open); open = null; } continue; }
            boolean d = WeightDecayPolicy.decays(e);
            if (open != null && open.decay() == d && open.to() == e.offset()) open = new Range(open.from(), e.offset() + e.length(), d);
            else { if (open != null) ranges.add(open); open = new Range(e.offset(), e.offset() + e.length(), d); }
        }
        if (open != null) ranges.add(open);
        for (Range r : ranges) {
            views.add(new INDArray[] {slice(store.flatParams(), r), slice(store.flatGrads(), r), slice(m, r), slice(v, r)});
        }
    }

    private static INDArray slice(INDArray flat, Range r) { return flat.get(NDArrayIndex.interval(r.from(), r.to())); }

    /** Applies one update with learning rate lr to every trainable tensor, using the current gradients. */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        step++;
        double bc1 = 1 - Math.pow(hyper.beta1(), step), bc2 = 1 - Math.pow(hyper.beta2(), step);
        for (int i = 0; i < ranges.size(); i++) {
            INDArray[] a = views.get(i);
            k.adamw(a[0], a[1], a[2], a[3], lr, ranges.get(i).decay() ? hyper.weightDecay() : 0, hyper.beta1(), hyper.beta2(),
                    hyper.eps(), bc1, bc2);
        }
    }

    /** Updates taken so far (the t of the bias corrections). */
    public long stepCount() { return step; }

    /** First moments, flat, same layout as the parameters (for checkpoints). */
    public INDArray firstMoments() { return m; }

    /** Second moments, flat, same layout as the parameters (for checkpoints). */
    public INDArray secondMoments() { return v; }

    /** Restores the state saved from {@link #stepCount()}, {@link #firstMoments()}, {@link #secondMoments()}. */
    public void restore(long stepCount, INDArray first, INDArray second) {
        if (first.length() != m.length() || second.length() != v.length()) {
            throw new IllegalArgumentException("optimizer state has " + first.length() + "/" + second.length() + " values, this model " + m.length());
        }
        if (stepCount < 0) throw new IllegalArgumentException("negative step count " + stepCount);
        m.assign(first.reshape(m.length()));
        v.assign(second.reshape(v.length()));
        step = stepCount;
    }

    @Override public String name() { return "AdamW"; }

    @Override public Map<String, Double> hyperParameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("beta1", hyper.beta1());
        h.put("beta2", hyper.beta2());
        h.put("eps", hyper.eps());
        h.put("weight_decay", hyper.weightDecay());
        return h;
    }

    @Override public Map<String, INDArray> state() {
        Map<String, INDArray> s = new LinkedHashMap<>();
        s.put("exp_avg", m);
        s.put("exp_avg_sq", v);
        return s;
    }

    @Override public void restore(long stepCount, Map<String, INDArray> state) {
        INDArray a = state.get("exp_avg"), b = state.get("exp_avg_sq");
        if (a == null || b == null) throw new IllegalArgumentException("AdamW state needs exp_avg and exp_avg_sq, got " + state.keySet());
        restore(stepCount, a, b);
    }

    public Hyper hyper() { return hyper; }
    public ParamStore store() { return store; }
}
