package org.mae4j;

import org.mae4j.engine.ParamStore;
import org.mae4j.io.NpyWeights;
import org.mae4j.probe.ProbeHead;
import org.mae4j.train.Lars;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reference's linear-probing head (BatchNorm1d without affine + Linear) and LARS against fixture
 * linprobe-s4: BatchNorm output, logits, loss and both gradients of one train-mode forward/backward; then the
 * recorded 3 LARS steps on the same batch (loss before each step, the weight's trust ratio at each step, all
 * five state_dict entries after the last step, eval-mode logits with the running statistics). Norm as
 * {@link Compare}: max|ours - ref| / max|ref|. Measured (float and double stores): outputs, gradients and
 * final tensors <= 2.0e-7, losses <= 1.2e-7 relative, trust ratios <= 4.1e-7 relative (float; the norms are
 * float sums); the tolerances (2e-6, 1e-6, 5e-6) sit about 10x above that, far inside the 1e-4 /
 * 1e-3 / 2e-4.
 */
class LinprobeParityTest {

    private static final String FIXTURE = "linprobe-s4";

    private static ParamStore loadHead(Reference ref, DataType dtype) throws IOException {
        JsonNode m = ref.manifest();
        ParamStore.Builder b = ParamStore.builder();
        ProbeHead.declare(b, m.get("dim").asInt(), m.get("num_classes").asInt());
        ParamStore store = b.build(dtype);
        NpyWeights.load(store, ref.params());
        return store;
    }

    private static float[] floats(INDArray a) { return a.castTo(DataType.FLOAT).dup('c').data().asFloat(); }

    private static int[] ints(INDArray a) { return a.castTo(DataType.INT).dup('c').data().asInt(); }

    private static INDArray tensor(float[] v, long... shape) { return Nd4j.create(v, shape, 'c'); }

    @ParameterizedTest(name = "{0} store")
    @ValueSource(strings = {"FLOAT", "DOUBLE"})
    void forwardAndBackwardMatchTheReference(String dtype) throws IOException {
        Reference ref = Reference.load(FIXTURE);
        ParamStore store = loadHead(ref, DataType.valueOf(dtype));
        ProbeHead head = new ProbeHead(store);
        int n = ref.manifest().get("batch").asInt(), d = head.featureDim(), classes = head.classes();
        float[] x = floats(ref.array("features"));
        int[] y = ints(ref.array("labels"));

        double loss = head.forwardTrain(x, y, n);
        Compare.assertClose("bn_out", tensor(head.normalized(), n, d), ref.array("bn_out"), 2e-6);
        Compare.assertClose("logits", tensor(head.logits(), n, classes), ref.array("logits"), 2e-6);
        double want = ref.scalar("loss");
        assertEquals(want, loss, 1e-6 * want, "loss");

        store.zeroGrad();
        head.backward();
        for (String key : List.of(ProbeHead.WEIGHT, ProbeHead.BIAS)) {
            Compare.assertClose("grad " + key, store.grad(key), ref.array("grads/" + key), 2e-6);
        }
    }

    @ParameterizedTest(name = "{0} store")
    @ValueSource(strings = {"FLOAT", "DOUBLE"})
    void larsTrajectoryMatchesTheReference(String dtype) throws IOException {
        Reference ref = Reference.load(FIXTURE);
        JsonNode tr = ref.manifest().get("trajectory");
        ParamStore store = loadHead(ref, DataType.valueOf(dtype));
        ProbeHead head = new ProbeHead(store);
        Lars lars = new Lars(store, new Lars.Hyper(tr.get("weight_decay").asDouble(), tr.get("momentum").asDouble(),
                tr.get("trust_coefficient").asDouble()));
        int n = ref.manifest().get("batch").asInt(), steps = tr.get("steps").asInt();
        double lr = tr.get("lr").asDouble();
        float[] x = floats(ref.array("features"));
        int[] y = ints(ref.array("labels"));
        INDArray losses = ref.array("steps_loss"), trust = ref.array("steps_trust_ratio");

        for (int t = 0; t < steps; t++) {
            double loss = head.forwardTrain(x, y, n), want = losses.getDouble(t);
            assertEquals(want, loss, 1e-6 * want, "loss before step " + t);
            store.zeroGrad();
            head.backward();
            lars.step(lr);
            double q = lars.lastTrustRatio(ProbeHead.WEIGHT), wantQ = trust.getDouble(t);
            assertEquals(wantQ, q, 5e-6 * wantQ, "trust ratio of the weight at step " + t);
            assertEquals(1.0, lars.lastTrustRatio(ProbeHead.BIAS), "the bias gets no trust ratio");
        }
        assertEquals(steps, lars.stepCount());
        try (Stream<Path> files = Files.list(ref.dir().resolve("steps_final"))) {
            List<Path> all = files.sorted().toList();
            assertEquals(5, all.size(), "the fixture's steps_final entries");
            for (Path p : all) {
                String key = p.getFileName().toString().replace(".npy", "");
                Compare.assertClose("after " + steps + " steps: " + key, store.param(key), ref.array("steps_final/" + key).castTo(store.dataType()), 2e-6);
            }
        }
        float[] eval = head.forwardEval(x, n);
        Compare.assertClose("eval-mode logits after the steps", tensor(eval, n, head.classes()), ref.array("steps_eval_logits"), 2e-6);
    }
}
