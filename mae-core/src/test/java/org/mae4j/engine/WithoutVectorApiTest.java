package org.mae4j.engine;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A user who adds mae-core as a dependency and starts the JVM without {@code --add-modules jdk.incubator.vector}
 * must still get working CPU kernels (the plain-loop path). Runs a training step in a child JVM started without
 * the module and compares its loss and gradient norm with this JVM's (Vector API) result.
 */
class WithoutVectorApiTest {

    /** The child: one forward/backward of micro with fixed weights and images; prints what it computed. */
    public static void main(String[] args) {
        CpuKernels k = (CpuKernels) MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        double[] r = step();
        System.out.println("vector=" + k.usesVectorApi() + " loss=" + r[0] + " gradnorm=" + r[1]);
    }

    static double[] step() {
        MaskedAutoencoder m = MaskedAutoencoder.create(MaeConfig.micro(), new Random(11));
        INDArray images = Nd4j.rand(DataType.FLOAT, 5, 3, 16, 16);
        Random r = new Random(4);
        float[] v = new float[(int) images.length()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        images.data().setData(v);
        double loss = m.forward(images, new Random(9)).loss();
        m.params().zeroGrad();
        m.backward();
        return new double[] {loss, m.params().flatGrads().norm2Number().doubleValue()};
    }

    @Test
    void plainLoopPathRunsAndAgrees() throws Exception {
        assertTrue(VectorSupport.available(), "this JVM (surefire) is expected to have the Vector API");
        double[] here = step();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(WithoutVectorApiTest.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish in 120 s");
        } finally {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "child JVM without the Vector API failed:\n" + out);
        String line = out.lines().filter(l -> l.startsWith("vector=")).findFirst().orElseThrow(() -> new AssertionError("no result line in:\n" + out));
        assertTrue(line.startsWith("vector=false"), line);
        double loss = Double.parseDouble(line.replaceAll(".*loss=(\\S+).*", "$1"));
        double grad = Double.parseDouble(line.replaceAll(".*gradnorm=(\\S+).*", "$1"));
        assertEquals(here[0], loss, 1e-5 * Math.abs(here[0]), "loss, plain loops vs Vector API");
        assertEquals(here[1], grad, 1e-4 * Math.abs(here[1]), "gradient norm, plain loops vs Vector API");
    }
}
