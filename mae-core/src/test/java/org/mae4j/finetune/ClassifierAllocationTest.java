package org.mae4j.finetune;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.CpuKernels;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.nn.DropPath;
import org.mae4j.train.AdamW;
import org.mae4j.train.GradClip;
import org.mae4j.train.ParamGroups;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After its first step, a fine-tuning step (forward with soft targets and drop path, backward, gradient
 * clipping, AdamW with layer-decay groups) on the CPU path allocates no native arrays; counted as the
 * pretraining model's SteadyStateAllocationTest does (live JavaCPP pointers with a deallocator).
 */
class ClassifierAllocationTest {

    private static long settledCount() throws InterruptedException {
        long now = Pointer.totalCount();
        for (int i = 0, stable = 0; i < 60 && stable < 3; i++) {
            System.gc();
            Thread.sleep(30);
            long next = Pointer.totalCount();
            stable = next == now ? stable + 1 : 0;
            now = next;
        }
        return now;
    }

    @Test
    void aFineTuningStepAllocatesNoArraysOnceWarm() throws InterruptedException {
        MaeConfig cfg = MaeConfig.micro();
        CpuKernels k = new CpuKernels();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, k, new Random(0));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), new VitClassifier.Spec(5, VitClassifier.Pooling.GLOBAL_AVERAGE, 0.2), k, new Random(1));
        AdamW opt = new AdamW(m.params(), k, AdamW.Hyper.finetune(),
                ParamGroups.layerDecay(m.params().entries(), 0.75, 0.05, cfg.encoder().depth(), ParamGroups.VIT_NO_WEIGHT_DECAY));
        INDArray images = Nd4j.rand(DataType.FLOAT, 4, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        float[] targets = new float[4 * 5];
        for (int b = 0; b < 4; b++) { targets[b * 5 + b] = 0.6f; targets[b * 5 + 4] = 0.4f; }
        DropPath.MaskSource masks = DropPath.MaskSource.random(new Random(2));
        double[] norm = {0};
        Runnable step = () -> {
            m.forward(images, targets, masks);
            m.params().zeroGrad();
            m.backward();
            norm[0] = GradClip.clipGlobalNorm(m.params(), k, 1e-3);   // small, so that the scaling runs
            opt.step(1e-4);
        };
        step.run();
        step.run();
        assertTrue(norm[0] > 1e-3, "clipping was exercised (norm " + norm[0] + ")");

        long before = settledCount();
        INDArray probe = Nd4j.create(DataType.FLOAT, 10);            // the counter must see an allocation ...
        assertTrue(Pointer.totalCount() > before, "the allocation counter works");
        probe.close();
        long delta = 0;
        for (int attempt = 0; attempt < 5; attempt++) {
            before = settledCount();
            for (int i = 0; i < 3; i++) step.run();
            delta = Pointer.totalCount() - before;
            if (delta >= 0) break;
        }
        assertEquals(0, delta, "native allocations in 3 warm fine-tuning steps");
    }
}
