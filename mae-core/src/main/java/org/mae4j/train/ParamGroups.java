package org.mae4j.train;

import org.mae4j.engine.ParamStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Optimizer parameter groups: each trainable tensor gets a learning-rate scale (the optimizer's step
 * multiplies the schedule's lr by it) and a weight decay. {@link #layerDecay} is the reference's
 * {@code util/lr_decay.param_groups_lrd} for fine-tuning a ViT; {@link #uniform} is the pre-training rule.
 */
public final class ParamGroups {
    private ParamGroups() {}

    /** The no-weight-decay set of the reference's ViT ({@code VisionTransformer.no_weight_decay()}). */
    public static final Set<String> VIT_NO_WEIGHT_DECAY = Set.of("pos_embed", "cls_token", "dist_token");

    /**
     * One group: tensors sharing an lr scale and a weight decay.
     *
     * @param name        e.g. {@code layer_3_decay}, as the reference names it
     * @param layerId     the layer it belongs to (0 for {@link #uniform})
     * @param lrScale     multiplies the schedule's lr, > 0
     * @param weightDecay decoupled weight decay, >= 0
     * @param params      tensor names, in layout order
     */
    public record Group(String name, int layerId, double lrScale, double weightDecay, List<String> params) {
        public Group {
            Objects.requireNonNull(name, "name");
            if (!(lrScale > 0) || Double.isInfinite(lrScale)) throw new IllegalArgumentException("group " + name + ": lr scale must be finite and > 0, got " + lrScale);
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new IllegalArgumentException("group " + name + ": weight decay must be finite and >= 0, got " + weightDecay);
            params = List.copyOf(params);
            if (params.isEmpty()) throw new IllegalArgumentException("group " + name + " has no parameters");
        }
    }

    /**
     * The reference's layer id of a ViT tensor ({@code get_layer_id_for_vit}): 0 for cls_token, pos_embed and
     * patch_embed.*, i + 1 for blocks.i.*, numLayers = depth + 1 for everything else (fc_norm, norm, head).
     */
    public static int layerId(String name, int depth) {
        if (name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed")) return 0;
        if (name.startsWith("blocks.")) {
            int dot = name.indexOf('.', 7);
            try {
                int i = Integer.parseInt(dot < 0 ? name.substring(7) : name.substring(7, dot));
                if (i < 0 || i >= depth) throw new IllegalArgumentException("tensor " + name + " is in block " + i + " but depth is " + depth);
                return i + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tensor " + name + " has no block index after 'blocks.'");
            }
        }
        return depth + 1;
    }

    /**
     * {@code param_groups_lrd}: for every trainable tensor, layer id as {@link #layerId}, lr scale
     * {@code layerDecay^(depth + 1 - layerId)} (computed in double as Python does), weight decay 0 for 1-D
     * tensors, biases and names in noWeightDecay, else weightDecay. One group per (layer id, decay / no decay),
     * in order of first appearance; frozen tensors are left out.
     */
    public static List<Group> layerDecay(List<ParamStore.Entry> entries, double layerDecay, double weightDecay, int depth, Set<String> noWeightDecay) {
        if (!(layerDecay > 0 && layerDecay <= 1)) throw new IllegalArgumentException("layer decay must be in (0, 1], got " + layerDecay);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
        if (depth < 1) throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        Objects.requireNonNull(noWeightDecay, "noWeightDecay");
        int numLayers = depth + 1;
        Map<String, List<String>> members = new LinkedHashMap<>();
        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<String, Boolean> decays = new LinkedHashMap<>();
        for (ParamStore.Entry e : entries) {
            if (!e.trainable()) continue;
            int id = layerId(e.name(), depth);
            boolean decay = !(e.rank() == 1 || e.name().endsWith(".bias") || noWeightDecay.contains(e.name()));
            String name = "layer_" + id + (decay ? "_decay" : "_no_decay");
            members.computeIfAbsent(name, x -> new ArrayList<>()).add(e.name());
            ids.put(name, id);
            decays.put(name, decay);
        }
        List<Group> r = new ArrayList<>();
        for (Map.Entry<String, List<String>> m : members.entrySet()) {
            String name = m.getKey();
            int id = ids.get(name);
            r.add(new Group(name, id, Math.pow(layerDecay, numLayers - id), decays.get(name) ? weightDecay : 0, m.getValue()));
        }
        return r;
    }

    /**
     * The pre-training rule ({@link WeightDecayPolicy}) as groups: lr scale 1, weight decay on every trainable
     * tensor the policy decays, none on the rest; groups {@code no_decay} and {@code decay} as present.
     */
    public static List<Group> uniform(List<ParamStore.Entry> entries, double weightDecay) {
        List<String> no = new ArrayList<>(), yes = new ArrayList<>();
        for (ParamStore.Entry e : entries) if (e.trainable()) (WeightDecayPolicy.decays(e) ? yes : no).add(e.name());
        List<Group> r = new ArrayList<>();
        if (!no.isEmpty()) r.add(new Group("no_decay", 0, 1, 0, no));
        if (!yes.isEmpty()) r.add(new Group("decay", 0, 1, weightDecay, yes));
        return r;
    }
}
