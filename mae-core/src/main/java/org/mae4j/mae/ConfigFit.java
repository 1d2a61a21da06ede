package org.mae4j.mae;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a file's tensors are of the model its config describes, checked on every load (checkpoints,
 * safetensors with a config.json or a preset, .npy folders). A config is only a claim: a manifest or config.json
 * that says 32 px images over 28 px position tables would otherwise build a model of the claimed size (and fail
 * deep inside a layer) or, for the embedder, regenerate the tables for the claimed size without a word.
 *
 * <p>Every tensor whose name the MAE, a fine-tuned classifier ({@code fc_norm}, {@code head}) or a linear probe
 * may hold is checked against the shape the config implies (the shapes of {@link MaskedAutoencoder#layout}, one
 * source of truth); blocks past the config's depth, and a depth the file's blocks do not reach, are refused too.
 * Names no model has are left to the loaders, which list them.
 */
public final class ConfigFit {
    private ConfigFit() {}

    /**
     * {@link org.mae4j.io.Checkpoint#load} with the check that its tensors fit the manifest's config: every command
     * and loader that builds a model from a checkpoint loads it here. The manifest's config is a claim: a model built
     * from it over other tensors fails deep in a layer.
     *
     * @throws java.io.IOException one line naming the file: unreadable, damaged, or tensors that do not fit its config
     */
    public static org.mae4j.io.Checkpoint.Contents loadCheckpoint(java.nio.file.Path file) throws java.io.IOException {
        org.mae4j.io.Checkpoint.Contents c = org.mae4j.io.Checkpoint.load(file);
        try {
            checkStore(c.config(), c.params(), "checkpoint " + file);
        } catch (IllegalArgumentException e) {
            throw new java.io.IOException(e.getMessage(), e);
        }
        return c;
    }

    private static final Pattern BLOCK = Pattern.compile("(decoder_blocks|blocks)\\.(\\d+)\\..*");

    /**
     * The shapes of tensors that a loader then matches by name (ParamStore.setAll, the embedder), listing the
     * missing and unexpected ones itself: as {@link #check(MaeConfig, Map, Object)} without the block count.
     */
    public static void checkTensors(MaeConfig cfg, Map<String, INDArray> tensors, Object source) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        tensors.forEach((k, v) -> shapes.put(k, v.shape()));
        check(cfg, shapes, source, false);
    }

    /** As {@link #check(MaeConfig, Map, Object)} over a store's entries. */
    public static void checkStore(MaeConfig cfg, ParamStore store, Object source) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (ParamStore.Entry e : store.entries()) shapes.put(e.name(), e.shape());
        check(cfg, shapes, source);
    }

    /**
     * @param shapes tensor name -> shape, as the file holds them
     * @param source the file, for the message
     * @throws IllegalArgumentException one line: the file, the tensor, the shape the config implies and the one found
     */
    public static void check(MaeConfig cfg, Map<String, long[]> shapes, Object source) {
        check(cfg, shapes, source, true);
    }

    private static void check(MaeConfig cfg, Map<String, long[]> shapes, Object source, boolean blockCount) {
        Map<String, long[]> want = MaskedAutoencoder.layout(cfg).shapes();
        int d = cfg.encoder().width();
        want.put("fc_norm.weight", new long[] {d});
        want.put("fc_norm.bias", new long[] {d});
        long[] head = shapes.get("head.weight");
        if (head != null && shapes.containsKey("cls_token")) {   // a classifier's head reads the encoder's width (a probe's alone may read K blocks)
            want.put("head.weight", new long[] {head.length == 2 ? head[0] : 1, d});
            want.put("head.bias", new long[] {head.length == 2 ? head[0] : 1});
        }
        int[] deepest = {-1, -1};
        for (Map.Entry<String, long[]> t : shapes.entrySet()) {
            String name = t.getKey();
            Matcher m = BLOCK.matcher(name);
            if (blockCount && m.matches()) {
                boolean decoder = m.group(1).equals("decoder_blocks");
                int depth = decoder ? cfg.decoder().depth() : cfg.encoder().depth();
                long i = Long.parseLong(m.group(2).length() > 9 ? "999999999" : m.group(2));
                if (i >= depth) {
                    throw new IllegalArgumentException(source + ": tensor " + name + " is of " + (decoder ? "decoder " : "") + "block " + i + ", but "
                            + describe(cfg) + " has " + depth + (decoder ? " decoder" : " encoder") + " blocks");
                }
                deepest[decoder ? 1 : 0] = (int) Math.max(deepest[decoder ? 1 : 0], i);
            }
            long[] w = want.get(name);
            if (w != null && !Arrays.equals(w, t.getValue())) {
                throw new IllegalArgumentException(source + ": tensor " + name + " has shape " + Arrays.toString(t.getValue()) + ", but " + describe(cfg)
                        + " implies " + Arrays.toString(w));
            }
        }
        if (deepest[0] >= 0 && deepest[0] < cfg.encoder().depth() - 1) {
            throw new IllegalArgumentException(source + ": its encoder blocks end at blocks." + deepest[0] + ", but " + describe(cfg) + " has "
                    + cfg.encoder().depth() + " encoder blocks");
        }
        if (deepest[1] >= 0 && deepest[1] < cfg.decoder().depth() - 1) {
            throw new IllegalArgumentException(source + ": its decoder blocks end at decoder_blocks." + deepest[1] + ", but " + describe(cfg) + " has "
                    + cfg.decoder().depth() + " decoder blocks");
        }
    }

    private static String describe(MaeConfig c) {
        return "its config (" + c.imageSize() + " px, patch " + c.patchSize() + ", " + c.channels() + " channel(s), encoder width " + c.encoder().width()
                + " depth " + c.encoder().depth() + ", decoder width " + c.decoder().width() + " depth " + c.decoder().depth() + ")";
    }
}
