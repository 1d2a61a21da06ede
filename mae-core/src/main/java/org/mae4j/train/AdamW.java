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
 * runs once per maximal run of neighbouring tensors that share a (lr scale, weight decay) setting (a few dozen
 * calls a step). Parameter groups ({@link ParamGroups}) give each tensor an lr scale, applied inside
 * {@link #step}: the caller passes the schedule's lr, as the reference's {@code adjust_learning_rate} sets
 * {@code group["lr"] = lr * group["lr_scale"]}.
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
        /** Fine-tuning ({@code main_finetune.py}): betas (0.9, 0.999) (PyTorch's default), eps 1e-8, weight decay 0.05. */
        public static Hyper finetune() { return new Hyper(0.9, 0.999, 1e-8, 0.05); }
        public Hyper withWeightDecay(double wd) { return new Hyper(beta1, beta2, eps, wd); }
    }

    /** A run of neighbouring tensors [from, to) in the flat buffers with one lr scale and weight decay. */
    private record Range(long from, long to, double lrScale, double weightDecay) {}

    private final ParamStore store;
    private final Kernels k;
    private final Hyper hyper;
    private final List<ParamGroups.Group> groups;
    private final INDArray m, v;
    private final List<Range> ranges = new ArrayList<>();
    private final List<INDArray[]> views = new ArrayList<>();   // per range: p, g, m, v
    private long step;

    /** Pre-training: lr scale 1 everywhere, weight decay {@code hyper.weightDecay()} where {@link WeightDecayPolicy} says. */
    public AdamW(ParamStore store, Kernels k, Hyper hyper) {
        this(store, k, hyper, ParamGroups.uniform(store.entries(), hyper.weightDecay()), false);
    }

    /**
     * With parameter groups (e.g. {@link ParamGroups#layerDecay}): every trainable tensor in exactly one group,
     * no frozen tensor in any. Each group's weight decay must be 0 or {@code hyper.weightDecay()} (so that the
     * hyper-parameters recorded in checkpoints describe the run); betas and eps come from hyper.
     */
    public AdamW(ParamStore store, Kernels k, Hyper hyper, List<ParamGroups.Group> groups) {
        this(store, k, hyper, groups, true);
    }

    private AdamW(ParamStore store, Kernels k, Hyper hyper, List<ParamGroups.Group> groups, boolean grouped) {
        this.store = store;
        this.k = k;
        this.hyper = hyper;
        this.groups = grouped ? List.copyOf(groups) : null;
        this.m = Nd4j.create(store.dataType(), store.numScalars());
        this.v = Nd4j.create(store.dataType(), store.numScalars());
        Map<String, ParamGroups.Group> groupOf = new LinkedHashMap<>();
        for (ParamGroups.Group g : groups) {
            if (g.weightDecay() != 0 && g.weightDecay() != hyper.weightDecay()) {
                throw new IllegalArgumentException("group " + g.name() + " has weight decay " + g.weightDecay() + ", the optimizer's is " + hyper.weightDecay() + " (groups may only use it or 0)");
            }
            for (String p : g.params()) {
                ParamStore.Entry e = store.entry(p);
                if (!e.trainable()) throw new IllegalArgumentException("group " + g.name() + " lists " + p + ", which is frozen");
                ParamGroups.Group prev = groupOf.put(p, g);
                if (prev != null) throw new IllegalArgumentException(p + " is in two groups: " + prev.name() + " and " + g.name());
            }
        }
        Range open = null;
        for (ParamStore.Entry e : store.entries()) {
            if (!e.trainable()) { if (open != null) { ranges.add(open); open = null; } continue; }
            ParamGroups.Group g = groupOf.get(e.name());
            if (g == null) throw new IllegalArgumentException("trainable tensor " + e.name() + " is in no parameter group");
            if (open != null && open.lrScale() == g.lrScale() && open.weightDecay() == g.weightDecay() && open.to() == e.offset()) {
                open = new Range(open.from(), e.offset() + e.length(), g.lrScale(), g.weightDecay());
            } else {
                if (open != null) ranges.add(open);
                open = new Range(e.offset(), e.offset() + e.length(), g.lrScale(), g.weightDecay());
            }
        }
        if (open != null) ranges.add(open);
        for (Range r : ranges) {
            views.add(new INDArray[] {slice(store.flatParams(), r), slice(store.flatGrads(), r), slice(m, r), slice(v, r)});
        }
    }

    private static INDArray slice(INDArray flat, Range r) { return flat.get(NDArrayIndex.interval(r.from(), r.to())); }

    /** Applies one update with the schedule's learning rate lr (times each group's lr scale) to every trainable tensor, using the current gradients. */
    public void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        step++;
        double bc1 = 1 - Math.pow(hyper.beta1(), step), bc2 = 1 - Math.pow(hyper.beta2(), step);
        for (int i = 0; i < ranges.size(); i++) {
            INDArray[] a = views.get(i);
            Range r = ranges.get(i);
            k.adamw(a[0], a[1], a[2], a[3], lr * r.lrScale(), r.weightDecay(), hyper.beta1(), hyper.beta2(), hyper.eps(), bc1, bc2);
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

    /** The parameter groups this optimizer was built with, or empty for the pre-training constructor. */
    public List<ParamGroups.Group> groups() { return groups == null ? List.of() : groups; }
    public ParamStore store() { return store; }
}
