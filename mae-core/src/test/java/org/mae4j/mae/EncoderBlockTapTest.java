package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** {@link MaskedAutoencoder#encode(INDArray, MaeEncoder.BlockTap)}: every block in order, the same latent as encode. */
class EncoderBlockTapTest {

    @Test
    void tapSeesEveryBlockInOrderAndLeavesTheLatentAlone() {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, new CpuKernels(), new Random(5));
        int n = 3, l = cfg.numPatches(), w = cfg.encoder().width();
        INDArray images = Nd4j.rand(DataType.FLOAT, n, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        float[] plain = mae.encode(images).dup().data().asFloat();
        List<Integer> seen = new ArrayList<>();
        List<INDArray> outputs = new ArrayList<>();
        float[] tapped = mae.encode(images, (block, rows) -> {
            seen.add(block);
            assertArrayEquals(new long[] {(long) n * (1 + l), w}, rows.shape());
            outputs.add(rows.dup());
        }).dup().data().asFloat();
        assertEquals(List.of(0, 1), seen);
        assertArrayEquals(plain, tapped, "same kernels in the same order: identical floats");
        assertFalse(outputs.get(0).equalsWithEps(outputs.get(1), 1e-6), "each block's own output, not one buffer seen twice");
        // the last block's output through the final norm is the latent
        INDArray last = outputs.get(1);
        INDArray mean = last.mean(true, 1), var = last.sub(mean).muli(last.sub(mean)).mean(true, 1);
        INDArray normed = last.sub(mean).divi(org.nd4j.linalg.ops.transforms.Transforms.sqrt(var.addi(cfg.normEps()), false))
                .muliRowVector(mae.params().param("norm.weight")).addiRowVector(mae.params().param("norm.bias"));
        float[] want = normed.dup().data().asFloat();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], plain[i], 1e-5, "latent " + i);
        assertThrows(NullPointerException.class, () -> mae.encode(images, null));
    }
}
