package org.mae4j.mae;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.Nd4jKernels;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.nn.DropPath;
import org.mae4j.train.AdamW;
import org.mae4j.train.MicroBatch;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.profiler.OpProfiler;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On the portable kernels a training step must issue a number of ND4J operations that does not grow with the
 * batch: on a GPU every operation is at least one kernel launch, and a loop over samples, rows or (sample,
 * head) pairs would make thousands of them. Counted with ND4J's own profiler (every op that reaches the
 * executioner), on a warm step (the first step of a batch size sizes its buffers).
 */
class PortableOpCountTest {

    @AfterEach
    void profilerOff() {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
        OpProfiler.getInstance().reset();
    }

    /** ND4J ops issued by body, counted by the executioner's profiler. */
    static long opsOf(Runnable body) {
        Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.OPERATIONS);
        OpProfiler.getInstance().reset();
        try {
            body.run();
            return OpProfiler.getInstance().getInvocationsCount();
        } finally {
            Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.DISABLED);
        }
    }

    @Test
    void theCounterCountsLegacyAndCustomOps() {
        INDArray a = Nd4j.ones(DataType.FLOAT, 4, 4), b = Nd4j.ones(DataType.FLOAT, 4, 4);
        long adds = opsOf(() -> { a.addi(b); a.addi(b); a.addi(b); });
        assertEquals(3, adds, "three in-place adds");
        long products = opsOf(() -> { Nd4j.matmul(a, b); Nd4j.matmul(a, b); });
        assertEquals(2, products, "two matmul custom ops");
        assertEquals(4, a.getFloat(0, 0), 0, "ones plus three adds of ones");
    }

    /** One pretraining step (forward, backward, AdamW) at batch n on the portable kernels; its op count. */
    static long pretrainStepOps(int n) { return pretrainStepOps(MaeConfig.micro(), n); }

    static long pretrainStepOps(MaeConfig cfg, int n) {
        MaskedAutoencoder model = MaskedAutoencoder.create(cfg, DataType.FLOAT, new Nd4jKernels(), new Random(1));
        Pretraining job = new Pretraining(model);
        AdamW opt = new AdamW(model.params(), model.kernels(), AdamW.Hyper.mae());
        Random data = new Random(2);
        float[] pixels = new float[n * cfg.channels() * cfg.imageSize() * cfg.imageSize()];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) data.nextGaussian();
        Runnable step = new Runnable() {
            long micro;
            @Override public void run() {
                model.params().zeroGrad();
                job.forwardBackward(new MicroBatch(pixels, null, n, 0, n, 0, micro++, 7));
                opt.step(1e-4);
            }
        };
        step.run();   // sizes the buffers for n
        return opsOf(step);
    }

    /**
     * The counts for other presets and batches (docs/performance.md), e.g. with the test class path:
     * {@code java -cp ... org.mae4j.mae.PortableOpCountTest tinyFmnist6 16 256}.
     */
    public static void main(String[] args) {
        if (args.length < 2) throw new IllegalArgumentException("usage: PortableOpCountTest <preset> <batch>...");
        MaeConfig cfg = MaeConfig.preset(args[0]);
        for (int i = 1; i < args.length; i++) {
            int n = Integer.parseInt(args[i]);
            System.out.printf("%s batch %d: %d ND4J ops per pretraining step (portable kernels)%n", args[0], n, pretrainStepOps(cfg, n));
        }
    }

    @Test
    void aPretrainingStepIssuesTheSameOpsAtBatch4And32() {
        long small = pretrainStepOps(4), large = pretrainStepOps(32);
        System.out.printf("portable pretraining step (micro): %d ND4J ops at batch 4, %d at batch 32%n", small, large);
        assertEquals(small, large, "ND4J ops per pretraining step at batch 4 vs 32");
    }

    /** One fine-tuning step (forward with drop path, backward, AdamW) at batch n on the portable kernels. */
    static long finetuneStepOps(int n) {
        MaeConfig cfg = MaeConfig.micro();
        MaskedAutoencoder mae = MaskedAutoencoder.create(cfg, DataType.FLOAT, new Nd4jKernels(), new Random(1));
        VitClassifier m = VitClassifier.fromEncoder(cfg, mae.params(), VitClassifier.Spec.reference(5), new Nd4jKernels(), new Random(3));
        AdamW opt = new AdamW(m.params(), new Nd4jKernels(), AdamW.Hyper.finetune());
        Random data = new Random(2);
        INDArray images = Nd4j.randn(DataType.FLOAT, n, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = data.nextInt(5);
        DropPath.MaskSource masks = DropPath.MaskSource.random(new Random(4));
        Runnable step = () -> {
            m.params().zeroGrad();
            m.forward(images, labels, 0.1, masks);
            m.backward();
            opt.step(1e-4);
        };
        step.run();
        return opsOf(step);
    }

    @Test
    void aFineTuningStepIssuesTheSameOpsAtBatch4And32() {
        long small = finetuneStepOps(4), large = finetuneStepOps(32);
        System.out.printf("portable fine-tuning step (micro): %d ND4J ops at batch 4, %d at batch 32%n", small, large);
        assertEquals(small, large, "ND4J ops per fine-tuning step at batch 4 vs 32");
    }
}
