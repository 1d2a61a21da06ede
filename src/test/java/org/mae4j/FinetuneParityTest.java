package org.mae4j;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.io.Npy;
import org.mae4j.nn.DropPath;
import org.mae4j.train.AdamW;
import org.mae4j.train.ParamGroups;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fine-tuning classifier against the reference's {@code models_vit.VisionTransformer} (global pooling,
 * label smoothing 0.1): pooled, features, logits, loss and every recorded gradient for {@code finetune-micro-s3},
 * {@code finetune-tiny-s5} and the drop-path variant {@code finetune-micro-dp-s3} (its recorded masks replayed),
 * then the short AdamW trajectory with layer-wise lr decay groups, on both kernel paths.
 * Norm: max|ours - ref| / max|ref| per tensor. Tolerances (the issue allows 1e-4 and 1e-3), about 5x the worst
 * measured over both kernel paths on the development machine: 3e-6 for pooled, features, logits and the loss
 * (measured <= 4.2e-7), 2e-5 for every gradient (measured <= 2.8e-6, blocks.11.mlp.fc2.bias of tiny), 5e-4 for
 * the trajectory (measured <= 2.7e-4 since the lane-order sums of issue 16, 1.5e-4 before: a tiny block's fc1
 * bias, max|ref| 9e-4, so 2.4e-7 absolute: the first AdamW steps move an entry by ~lr_p whatever the size of
 * its gradient, so float noise in near-zero gradients shows, and a change of summation order moves it);
 * the measured values are printed.
 *
 * <p>To keep the repository lean the fixtures here hold only the head's initial weights ({@code head.*},
 * {@code fc_norm.*}); every other initial weight is the encoder of the pre-training fixture named in the
 * manifest's {@code init.init_from} (byte-identical: the reference loads it from there), read from that
 * fixture's {@code params/}.
 */
class FinetuneParityTest {
    static final double FORWARD_RTOL = 3e-6;
    static final double GRAD_RTOL = 2e-5;
    static final double TRAJECTORY_RTOL = 5e-4;

    private static Kernels kernels(String path) {
        // the fast path reads array memory directly: only on the CPU backend (docs/gpu/check.sh runs the rest on CUDA)
        if (path.equals("cpu")) org.junit.jupiter.api.Assumptions.assumeTrue(org.mae4j.engine.Backends.isCpu(), "fast kernels need the CPU backend");
        return path.equals("cpu") ? new CpuKernels() : new Nd4jKernels();
    }

    /** The pre-training config with the fine-tuning fixture's encoder (the decoder part is unused). */
    static MaeConfig config(Reference ref) {
        MaeConfig cfg = Reference.load(ref.manifest().get("init").get("init_from").asText()).config();
        JsonNode kw = ref.manifest().get("model_kwargs");
        assertEquals(kw.get("embed_dim").asInt(), cfg.encoder().width(), "encoder width of init_from");
        assertEquals(kw.get("depth").asInt(), cfg.encoder().depth(), "encoder depth of init_from");
        return cfg;
    }

    static VitClassifier.Spec spec(Reference ref) {
        JsonNode kw = ref.manifest().get("model_kwargs");
        return new VitClassifier.Spec(kw.get("num_classes").asInt(),
                kw.get("global_pool").asBoolean() ? VitClassifier.Pooling.GLOBAL_AVERAGE : VitClassifier.Pooling.CLS_TOKEN,
                kw.get("drop_path_rate").asDouble());
    }

    static VitClassifier model(Reference ref, String path) throws IOException {
        MaeConfig cfg = config(ref);
        VitClassifier.Spec spec = spec(ref);
        ParamStore store = VitClassifier.layout(cfg, spec).build(DataType.FLOAT);
        Reference init = Reference.load(ref.manifest().get("init").get("init_from").asText());
        for (ParamStore.Entry e : store.entries()) {
            Path own = ref.params().resolve(e.name() + ".npy");
            store.set(e.name(), Npy.read(Files.exists(own) ? own : init.params().resolve(e.name() + ".npy")));
        }
        return new VitClassifier(cfg, spec, store, kernels(path));
    }

    static int[] labels(Reference ref) {
        INDArray a = ref.array("labels");
        int[] y = new int[(int) a.length()];
        for (int i = 0; i < y.length; i++) y[i] = a.getInt(i);
        return y;
    }

    static double smoothing(Reference ref) {
        String criterion = ref.manifest().get("loss").get("criterion").asText();
        assertTrue(criterion.contains("smoothing=0.1"), "the fixtures use label smoothing 0.1: " + criterion);
        return 0.1;
    }

    @ParameterizedTest(name = "{0} on {1} kernels")
    @CsvSource({"finetune-micro-s3, cpu", "finetune-micro-s3, nd4j", "finetune-tiny-s5, cpu", "finetune-tiny-s5, nd4j",
            "finetune-micro-dp-s3, cpu", "finetune-micro-dp-s3, nd4j"})
    void forwardAndGradientsMatchTheReference(String fixture, String path) throws IOException {
        Reference ref = Reference.load(fixture);
        VitClassifier m = model(ref, path);
        DropPath.MaskSource masks = null;
        int[] calls = {0};
        int recorded = 0;
        if (m.spec().dropPath() > 0) {
            INDArray rows = ref.array("droppath_masks");
            recorded = (int) rows.size(0);
            float[][] r = new float[recorded][];
            for (int i = 0; i < recorded; i++) r[i] = rows.getRow(i).toFloatVector();
            DropPath.MaskSource replay = DropPath.MaskSource.replay(r);
            masks = (p, keep) -> {
                calls[0]++;
                assertEquals(ref.manifest().get("droppath").get("calls").get(calls[0] - 1).get("drop_prob").asDouble(), p, 0, "drop prob of call " + calls[0]);
                replay.draw(p, keep);
            };
        }
        double loss = m.forward(ref.array("images"), labels(ref), smoothing(ref), masks);
        assertEquals(recorded, calls[0], "drop-path calls, as recorded");

        double rp = Compare.assertClose("pooled", m.lastPooled(), ref.array("pooled"), FORWARD_RTOL);
        double rf = Compare.assertClose("features", m.lastFeatures(), ref.array("features"), FORWARD_RTOL);
        double rl = Compare.assertClose("logits", m.lastLogits(), ref.array("logits"), FORWARD_RTOL);
        double want = ref.scalar("loss");
        assertEquals(want, loss, FORWARD_RTOL * Math.abs(want), "loss");

        m.params().zeroGrad();
        m.backward();
        double worst = 0;
        String worstName = "";
        Set<String> omitted = new HashSet<>();
        if (ref.manifest().has("grads_omitted")) ref.manifest().get("grads_omitted").get("keys").forEach(n -> omitted.add(n.asText()));
        try (Stream<Path> files = Files.list(ref.dir().resolve("grads"))) {
            List<Path> gradFiles = files.sorted().toList();
            assertEquals(m.params().entries().size() - omitted.size(), gradFiles.size(), "a recorded gradient for every parameter not omitted");
            for (Path p : gradFiles) {
                String key = p.getFileName().toString().replace(".npy", "");
                double r = Compare.assertClose("grad " + key, m.params().grad(key), ref.array("grads/" + key), GRAD_RTOL);
                if (r > worst) { worst = r; worstName = key; }
            }
        }
        System.out.printf("[%s/%s] pooled %.2e  features %.2e  logits %.2e  loss %.2e  worst grad %.2e (%s)%n", fixture, path,
                rp, rf, rl, Math.abs(loss - want) / Math.abs(want), worst, worstName);
    }

    @ParameterizedTest(name = "{0} on {1} kernels")
    @CsvSource({"finetune-micro-s3, cpu", "finetune-micro-s3, nd4j", "finetune-tiny-s5, cpu", "finetune-tiny-s5, nd4j"})
    void layerDecayTrajectoryMatchesTheReference(String fixture, String path) throws IOException {
        Reference ref = Reference.load(fixture);
        JsonNode tr = ref.manifest().get("trajectory");
        VitClassifier m = model(ref, path);
        ParamStore store = m.params();
        List<ParamGroups.Group> groups = ParamGroups.layerDecay(store.entries(), 0.75, 0.05, m.config().encoder().depth(),
                ParamGroups.VIT_NO_WEIGHT_DECAY);
        AdamW opt = new AdamW(store, m.kernels(), new AdamW.Hyper(tr.get("betas").get(0).asDouble(), tr.get("betas").get(1).asDouble(),
                tr.get("eps").asDouble(), 0.05), groups);
        assertEquals(AdamW.Hyper.finetune(), opt.hyper(), "the fixture's AdamW is the fine-tuning preset");

        INDArray images = ref.array("images"), losses = ref.array("steps_loss");
        int[] y = labels(ref);
        int steps = tr.get("steps").asInt();
        double lr = tr.get("lr").asDouble(), worstLoss = 0;
        for (int t = 0; t < steps; t++) {
            double loss = m.forward(images, y, smoothing(ref));
            double want = losses.getDouble(t);
            assertEquals(want, loss, FORWARD_RTOL * Math.abs(want), "loss before step " + t);
            worstLoss = Math.max(worstLoss, Math.abs(loss - want) / Math.abs(want));
            store.zeroGrad();
            m.backward();
            opt.step(lr);
        }
        double worst = 0;
        String worstName = "";
        try (Stream<Path> files = Files.list(ref.dir().resolve("steps_final"))) {
            for (Path p : files.sorted().toList()) {
                String key = p.getFileName().toString().replace(".npy", "");
                INDArray got = store.param(key).dup(), want = ref.array("steps_final/" + key);
                if (key.endsWith(".attn.qkv.bias")) {
                    // The key part's gradient is mathematically zero and in both implementations float noise,
                    // which AdamW turns into moves of up to lr_p per step (the fixtures' README): only bound it,
                    // then compare the query and value parts.
                    double lrP = lr * groups.stream().filter(g -> g.params().contains(key)).findFirst().orElseThrow().lrScale();
                    long d = got.length() / 3;
                    for (long i = d; i < 2 * d; i++) {
                        double moved = Math.abs(got.getDouble(i) - want.getDouble(i));
                        assertTrue(moved <= 2 * steps * lrP * 1.001, key + "[" + i + "] (key part) differs by " + moved + ", more than noise-driven AdamW moves allow");
                        got.putScalar(i, want.getDouble(i));
                    }
                }
                double r = Compare.assertClose("after " + steps + " steps: " + key, got, want, TRAJECTORY_RTOL);
                if (r > worst) { worst = r; worstName = key; }
            }
        }
        System.out.printf("[%s/%s trajectory] worst loss %.2e  worst final tensor %.2e (%s)%n", fixture, path, worstLoss, worst, worstName);
    }

    /** ParamGroups.layerDecay against the reference's param_groups_lrd, tensor by tensor and group by group. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"finetune-micro-s3", "finetune-tiny-s5"})
    void layerDecayGroupsAreTheReferenceOnes(String fixture) {
        Reference ref = Reference.load(fixture);
        JsonNode lrd = ref.manifest().get("param_groups_lrd");
        ParamStore store = VitClassifier.layout(config(ref), spec(ref)).build(DataType.FLOAT);
        Set<String> noWd = new HashSet<>();
        lrd.get("no_weight_decay_list").forEach(n -> noWd.add(n.asText()));
        assertEquals(ParamGroups.VIT_NO_WEIGHT_DECAY, noWd, "the no-weight-decay set");
        List<ParamGroups.Group> groups = ParamGroups.layerDecay(store.entries(), 0.75, 0.05, config(ref).encoder().depth(), noWd);

        JsonNode want = lrd.get("groups");
        assertEquals(want.size(), groups.size(), "number of groups");
        for (int i = 0; i < groups.size(); i++) {
            ParamGroups.Group g = groups.get(i);
            JsonNode w = want.get(i);
            assertEquals(w.get("name").asText(), g.name(), "group " + i);
            assertEquals(w.get("layer_id").asInt(), g.layerId(), g.name());
            assertEquals(w.get("lr_scale").asDouble(), g.lrScale(), 1e-15 * w.get("lr_scale").asDouble(), g.name() + " lr scale");
            assertEquals(w.get("weight_decay").asDouble(), g.weightDecay(), 0, g.name() + " weight decay");
            List<String> names = new ArrayList<>();
            w.get("params").forEach(n -> names.add(n.asText()));
            assertEquals(names, g.params(), g.name() + " members, in order");
        }
        for (JsonNode p : lrd.get("per_param")) {
            String name = p.get("name").asText();
            ParamGroups.Group g = groups.stream().filter(x -> x.params().contains(name)).findFirst().orElseThrow();
            assertEquals(p.get("layer_id").asInt(), ParamGroups.layerId(name, config(ref).encoder().depth()), name);
            assertEquals(p.get("lr_scale").asDouble(), g.lrScale(), 1e-15 * g.lrScale(), name);
            assertEquals(p.get("weight_decay").asDouble(), g.weightDecay(), 0, name);
        }
    }
}
