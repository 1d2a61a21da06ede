package org.mae4j;

import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.NpyWeights;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.SinCosPosEmbed;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model against outputs recorded from the reference PyTorch MAE (both fixtures, both kernel paths).
 * Norm: max|ours - ref| / max|ref| per tensor. Tolerances: exact for the position tables, target, mask and
 * ids_restore; 1e-5 for latent, pred and the losses; 1e-4 for every gradient (the issue asks for 1e-4 and
 * 1e-3; an independent float32 re-implementation reaches ~1e-6).
 */
class ReferenceParityTest {
    static final double FORWARD_RTOL = 1e-5;
    static final double GRAD_RTOL = 1e-4;

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (String f : List.of("micro-s1", "tiny-fmnist-s42")) {
            a.add(Arguments.of(f, "cpu"));
            a.add(Arguments.of(f, "nd4j"));
        }
        return a.stream();
    }

    private static Kernels kernels(String path) {
        // the fast path reads array memory directly: only on the CPU backend (docs/gpu/check.sh runs the rest on CUDA)
        if (path.equals("cpu")) org.junit.jupiter.api.Assumptions.assumeTrue(org.mae4j.engine.Backends.isCpu(), "fast kernels need the CPU backend");
        return path.equals("cpu") ? new CpuKernels() : new Nd4jKernels();
    }

    private static MaskedAutoencoder model(Reference ref, MaeConfig cfg, String path) throws IOException {
        ParamStore store = MaskedAutoencoder.layout(cfg).build(DataType.FLOAT);
        NpyWeights.load(store, ref.params());
        return new MaskedAutoencoder(cfg, store, kernels(path));
    }

    @ParameterizedTest(name = "{0} on {1} kernels")
    @MethodSource("cases")
    void forwardAndGradientsMatchTheReference(String fixture, String path) throws IOException {
        Reference ref = Reference.load(fixture);
        MaeConfig cfg = ref.config();
        MaskedAutoencoder mae = model(ref, cfg, path);

        MaeOutput out = mae.forward(ref.array("images"), ref.array("noise"));

        Compare.assertExact("ids_restore", toLong(out.masking().idsRestore(), cfg), ref.array("ids_restore"));
        Compare.assertExact("mask", out.mask(), ref.array("mask"));
        Compare.assertExact("target", mae.lastTarget().reshape(out.pred().shape()), ref.array("target"));
        double rl = Compare.assertClose("latent", out.latent(), ref.array("latent"), FORWARD_RTOL);
        double rp = Compare.assertClose("pred", out.pred(), ref.array("pred"), FORWARD_RTOL);
        double want = ref.scalar("loss");
        assertEquals(want, out.loss(), FORWARD_RTOL * Math.abs(want), "loss");

        mae.params().zeroGrad();
        mae.backward();
        double worst = 0;
        String worstName = "";
        try (Stream<Path> files = Files.list(ref.dir().resolve("grads"))) {
            List<Path> gradFiles = files.sorted().toList();
            assertEquals(mae.params().entries().stream().filter(ParamStore.Entry::trainable).count(), gradFiles.size(),
                    "every trainable parameter has a recorded gradient");
            for (Path p : gradFiles) {
                String key = p.getFileName().toString().replace(".npy", "");
                double r = Compare.assertClose("grad " + key, mae.params().grad(key), ref.array("grads/" + key), GRAD_RTOL);
                if (r > worst) { worst = r; worstName = key; }
            }
        }
        System.out.printf("[%s/%s] latent %.2e  pred %.2e  loss %.2e  worst grad %.2e (%s)%n", fixture, path, rl, rp,
                Math.abs(out.loss() - want) / Math.abs(want), worst, worstName);
    }

    @ParameterizedTest(name = "{0} on {1} kernels")
    @MethodSource("cases")
    void plainAndNormPixLossesMatch(String fixture, String path) throws IOException {
        Reference ref = Reference.load(fixture);
        for (boolean normPix : new boolean[] {false, true}) {
            MaeConfig cfg = ref.config().withNormPixLoss(normPix);
            double got = model(ref, cfg, path).forward(ref.array("images"), ref.array("noise")).loss();
            double want = ref.scalar(normPix ? "loss_norm_pix" : "loss_plain");
            assertEquals(want, got, FORWARD_RTOL * Math.abs(want), (normPix ? "norm-pix" : "plain") + " loss");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void generatedPositionTablesEqualTheRecordedOnes(String fixture) {
        Reference ref = Reference.load(fixture);
        MaeConfig cfg = ref.config();
        INDArray enc = SinCosPosEmbed.table(cfg.encoder().width(), cfg.gridSize(), DataType.FLOAT);
        INDArray dec = SinCosPosEmbed.table(cfg.decoder().width(), cfg.gridSize(), DataType.FLOAT);
        Compare.assertExact("pos_embed", enc.reshape(1, enc.size(0), enc.size(1)), ref.array("params/pos_embed"));
        Compare.assertExact("decoder_pos_embed", dec.reshape(1, dec.size(0), dec.size(1)), ref.array("params/decoder_pos_embed"));
        assertTrue(enc.getRow(0).sumNumber().doubleValue() == 0, "cls row is zero");
    }

    static Stream<String> fixtures() { return Stream.of("micro-s1", "tiny-fmnist-s42"); }

    private static INDArray toLong(int[] ids, MaeConfig cfg) {
        long[] v = new long[ids.length];
        for (int i = 0; i < v.length; i++) v[i] = ids[i];
        return org.nd4j.linalg.factory.Nd4j.createFromArray(v).reshape(v.length / cfg.numPatches(), cfg.numPatches());
    }
}
