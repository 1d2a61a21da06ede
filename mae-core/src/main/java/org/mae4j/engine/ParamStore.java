package org.mae4j.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of a model in one flat buffer, all gradients in another of the same layout; each tensor
 * is a view named by its PyTorch state_dict key ({@code blocks.3.attn.qkv.weight}). Optimizers, checkpoints
 * and loaders work on the flat buffers or the named views; layers only hold views.
 *
 * <p>Build the layout first with {@link Builder#add}, then {@link Builder#build} allocates both buffers once.
 * Frozen tensors (the fixed position tables) live in the same buffer, with a gradient view that stays zero.
 */
public final class ParamStore {

    /** One named tensor: where it sits in the flat buffers and whether the optimizer may change it. */
    public record Entry(String name, long[] shape, long offset, long length, boolean trainable) {
        public Entry { shape = shape.clone(); }
        @Override public long[] shape() { return shape.clone(); }
        public int rank() { return shape.length; }
    }

    private final Map<String, Entry> entries;
    private final INDArray params;   // [total]
    private final INDArray grads;    // [total]
    private final Map<String, INDArray> paramViews = new LinkedHashMap<>();
    private final Map<String, INDArray> gradViews = new LinkedHashMap<>();

    private ParamStore(Map<String, Entry> entries, long total, DataType dtype) {
        this.entries = Collections.unmodifiableMap(entries);
        this.params = Nd4j.create(dtype, total);
        this.grads = Nd4j.create(dtype, total);
        for (Entry e : entries.values()) {
            paramViews.put(e.name(), view(params, e));
            gradViews.put(e.name(), view(grads, e));
        }
    }

    private static INDArray view(INDArray flat, Entry e) {
        return flat.get(NDArrayIndex.interval(e.offset(), e.offset() + e.length())).reshape('c', e.shape());
    }

    public static Builder builder() { return new Builder(); }

    /** Collects the layout: names in insertion order (the reference's state_dict order). */
    public static final class Builder {
        private final Map<String, Entry> entries = new LinkedHashMap<>();
        private long total;

        public Builder add(String name, boolean trainable, long... shape) {
            if (entries.containsKey(name)) throw new IllegalArgumentException("duplicate parameter name: " + name);
            long len = 1;
            for (long s : shape) {
                if (s <= 0) throw new IllegalArgumentException("parameter " + name + " has a non-positive dim: " + Arrays.toString(shape));
                len *= s;
            }
            entries.put(name, new Entry(name, shape, total, len, trainable));
            total += len;
            return this;
        }

        /** Marks frozen every tensor the predicate accepts (partial fine-tuning freezes the lower layers this way). */
        public Builder freeze(java.util.function.Predicate<String> frozen) {
            entries.replaceAll((n, e) -> frozen.test(n) ? new Entry(n, e.shape(), e.offset(), e.length(), false) : e);
            return this;
        }

        /** Name -> shape of every declared parameter, in declaration order, with nothing allocated. */
        public Map<String, long[]> shapes() {
            Map<String, long[]> m = new LinkedHashMap<>();
            entries.forEach((k, e) -> m.put(k, e.shape().clone()));
            return m;
        }

        public ParamStore build(DataType dtype) {
            if (!dtype.isFPType()) throw new IllegalArgumentException("parameters need a floating dtype, got " + dtype);
            return new ParamStore(new LinkedHashMap<>(entries), total, dtype);
        }
    }

    /** The parameter view for a key; fails with the key and the nearest known names when it is unknown. */
    public INDArray param(String name) { return paramViews.get(entry(name).name()); }

    /** The gradient view for a key, same shape as {@link #param}. */
    public INDArray grad(String name) { return gradViews.get(entry(name).name()); }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("unknown parameter '" + name + "'; this model has " + entries.size()
                + " tensors, e.g. " + entries.keySet().stream().limit(5).toList());
        return e;
    }

    public boolean contains(String name) { return entries.containsKey(name); }

    /** Every tensor in layout order. */
    public List<Entry> entries() { return new ArrayList<>(entries.values()); }

    /** The flat parameter buffer [total]; views alias it. */
    public INDArray flatParams() { return params; }

    /** The flat gradient buffer [total]; views alias it. */
    public INDArray flatGrads() { return grads; }

    public DataType dataType() { return params.dataType(); }

    /** Number of scalars in trainable tensors. */
    public long numTrainable() { return entries.values().stream().filter(Entry::trainable).mapToLong(Entry::length).sum(); }

    public long numScalars() { return params.length(); }

    /** Sets every gradient to zero (a memset of the flat buffer; allocates nothing). */
    public void zeroGrad() { Nd4j.getMemoryManager().memset(grads); }

    /**
     * Copies in a whole set of named tensors (from a file named by source, for messages). Every trainable
     * tensor must be there and nothing unknown may be; frozen tensors (the fixed position tables) may be
     * absent, keeping their current values. Fails before changing anything.
     */
    public void setAll(Map<String, INDArray> values, String source) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), badShape = new ArrayList<>();
        for (Entry e : entries.values()) if (e.trainable() && !values.containsKey(e.name())) missing.add(e.name());
        for (Map.Entry<String, INDArray> v : values.entrySet()) {
            Entry e = entries.get(v.getKey());
            if (e == null) unexpected.add(v.getKey());
            else if (!Arrays.equals(e.shape(), v.getValue().shape())) {
                badShape.add(v.getKey() + " (model " + Arrays.toString(e.shape()) + ", file " + Arrays.toString(v.getValue().shape()) + ")");
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !badShape.isEmpty()) {
            throw new IllegalArgumentException("weights from " + source + " do not fit this model: missing " + missing
                    + ", unexpected " + unexpected + ", shape mismatch " + badShape);
        }
        values.forEach(this::set);
    }

    /**
     * Copies a tensor in by key. The shape must match exactly; a mismatch names the key and both shapes.
     * The value may have any floating dtype; it is cast to the store's.
     */
    public void set(String name, INDArray value) {
        Entry e = entry(name);
        if (!Arrays.equals(e.shape(), value.shape())) {
            throw new IllegalArgumentException("shape mismatch for '" + name + "': the model has " + Arrays.toString(e.shape())
                    + ", the value has " + Arrays.toString(value.shape()));
        }
        paramViews.get(name).assign(value.dataType() == dataType() ? value : value.castTo(dataType()));
    }
}
