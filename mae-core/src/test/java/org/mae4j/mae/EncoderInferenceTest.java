package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MaskedAutoencoder#encode} (the encoder's inference pass with one shared set of block activations). */
class EncoderInferenceTest {

    private static MaskedAutoencoder model(MaeConfig cfg) {
        return MaskedAutoencoder.create(cfg, DataType.FLOAT, new CpuKernels(), new Random(3));
    }

    @Test
    void encodeGivesTheTrainingForwardsLatentExactly() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = model(cfg);
        int n = 3, l = cfg.numPatches();
        INDArray images = Nd4j.rand(DataType.FLOAT, n, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        float[] viaInference = mae.encode(images).dup().data().asFloat();
        MaeEncoder trainingPath = new MaeEncoder(cfg, mae.kernels(), mae.params());
        float[] viaForward = trainingPath.forward(images, MaskSample.keepAll(n, l)).dup().data().asFloat();
        assertArrayEquals(viaForward, viaInference, "same kernels in the same order: identical floats");
    }

    @Test
    void encodeBetweenForwardAndBackwardLeavesTheGradientsAlone() {
        MaeConfig cfg = MaeConfig.micro();
        INDArray images = Nd4j.rand(DataType.FLOAT, 4, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        INDArray other = Nd4j.rand(DataType.FLOAT, 2, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        MaskedAutoencoder a = model(cfg), b = model(cfg);
        a.forward(images, new Random(7));
        a.params().zeroGrad();
        a.backward();
        b.forward(images, new Random(7));
        b.encode(other);                       // another batch size and no masking, in between
        b.params().zeroGrad();
        b.backward();
        assertArrayEquals(a.params().flatGrads().dup().data().asFloat(), b.params().flatGrads().dup().data().asFloat());
    }

    @Test
    void wrongImagesAreRefused() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = model(cfg);
        INDArray wrong = Nd4j.rand(DataType.FLOAT, 2, cfg.channels() + 1, cfg.imageSize(), cfg.imageSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mae.encode(wrong));
        assertTrue(e.getMessage().contains("images must be"), e.getMessage());
    }
}
