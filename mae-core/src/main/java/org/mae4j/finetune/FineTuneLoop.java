package org.mae4j.finetune;

import org.mae4j.data.Augment;
import org.mae4j.data.Batch;
import org.mae4j.data.BatchLoader;
import org.mae4j.data.ImageDataset;
import org.mae4j.train.AdamW;
import org.mae4j.train.CosineSchedule;
import org.mae4j.train.TrainingDivergedException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Objects;

/**
 * Fine-tuning a {@link VitClassifier}: every parameter trains, with AdamW, per-step warmup + cosine learning
 * rate, label smoothing and the pretraining crop/flip augmentation; the test set is scored after every epoch.
 * A subset of the reference recipe: no mixup/cutmix, drop path or layer-wise learning-rate decay.
 */
public final class FineTuneLoop {

    /**
     * @param epochs       passes over the training set
     * @param batchSize    images per step
     * @param blr          base learning rate; absolute lr = blr * batch / 256
     * @param warmupEpochs epochs of linear warmup
     * @param smoothing    label smoothing
     * @param hyper        AdamW settings
     * @param seed         data order and augmentation
     */
    public record Options(int epochs, int batchSize, double blr, double warmupEpochs, double smoothing, AdamW.Hyper hyper, long seed) {
        public Options {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            if (!(blr > 0) || !Double.isFinite(blr)) throw new IllegalArgumentException("base learning rate must be positive, got " + blr);
            if (!(warmupEpochs >= 0) || warmupEpochs > epochs) throw new IllegalArgumentException("warmup epochs must be in [0, " + epochs + "], got " + warmupEpochs);
            if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
            Objects.requireNonNull(hyper, "hyper");
        }
    }

    /** Progress, on the training thread. */
    public interface Listener {
        default void onStep(int epoch, int step, int stepsPerEpoch, double loss, double lr, double imagesPerSecond) {}
        default void onEpochEnd(int epoch, double meanLoss, double testAccuracy) {}
    }

    private final VitClassifier model;
    private final AdamW optimizer;
    private final ImageDataset train, test;
    private final Augment augment;
    private final Options options;

    public FineTuneLoop(VitClassifier model, ImageDataset train, ImageDataset test, Augment augment, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        this.train = Objects.requireNonNull(train, "train");
        this.test = Objects.requireNonNull(test, "test");
        this.augment = Objects.requireNonNull(augment, "augment");
        this.options = Objects.requireNonNull(options, "options");
        for (ImageDataset d : new ImageDataset[] {train, test}) {
            if (!d.hasLabels()) throw new IllegalArgumentException("fine-tuning needs labels; " + d + " has none");
            if (d.channels() != model.config().channels() || d.imageSize() != model.config().imageSize()) {
                throw new IllegalArgumentException(d + " has " + d.channels() + "-channel " + d.imageSize() + "px images, the model takes "
                        + model.config().channels() + "-channel " + model.config().imageSize() + "px");
            }
        }
        if (train.size() < options.batchSize()) {
            throw new IllegalArgumentException("training set has " + train.size() + " images, fewer than one batch of " + options.batchSize());
        }
        this.optimizer = new AdamW(model.params(), model.kernels(), options.hyper());
    }

    /** Trains all epochs; returns the test accuracy after the last. */
    public double run(Listener listener) {
        Listener l = listener == null ? new Listener() {} : listener;
        var c = model.config();
        int stepsPerEpoch = train.size() / options.batchSize();
        double lr0 = CosineSchedule.absoluteLr(options.blr(), options.batchSize());
        CosineSchedule schedule = new CosineSchedule(lr0, 0, Math.round(options.warmupEpochs() * stepsPerEpoch), (long) stepsPerEpoch * options.epochs());
        INDArray images = Nd4j.create(model.params().dataType(), options.batchSize(), c.channels(), c.imageSize(), c.imageSize());
        long step = 0;
        double accuracy = Double.NaN;
        for (int epoch = 0; epoch < options.epochs(); epoch++) {
            double lossSum = 0;
            try (BatchLoader loader = new BatchLoader(train, options.batchSize(), true, augment, options.seed(), epoch, epoch + 1)) {
                for (int s = 0; s < stepsPerEpoch; s++, step++) {
                    long t0 = System.nanoTime();
                    Batch b = loader.next();
                    images.data().setData(b.images());
                    int[] labels = b.labels();   // not pooled: only the image buffers are recycled
                    b.release();
                    double lr = schedule.lr(step);
                    double loss = model.forward(images, labels, options.smoothing());
                    if (!Double.isFinite(loss)) throw new TrainingDivergedException(epoch + 1, step, lr, loss);
                    model.params().zeroGrad();
                    model.backward();
                    optimizer.step(lr);
                    lossSum += loss;
                    l.onStep(epoch, s + 1, stepsPerEpoch, loss, lr, options.batchSize() / ((System.nanoTime() - t0) / 1e9));
                }
            }
            accuracy = accuracy(model, test, augment, options.batchSize());
            l.onEpochEnd(epoch, lossSum / stepsPerEpoch, accuracy);
        }
        return accuracy;
    }

    /** Top-1 accuracy on a labeled dataset, images normalized only (no crop or flip). */
    public static double accuracy(VitClassifier model, ImageDataset data, Augment normalization, int batch) {
        Augment plain = Augment.none(data.channels()).withNormalization(normalization.mean(), normalization.std());
        int correct = 0;
        var c = model.config();
        INDArray full = null;   // reused for every full batch; only a last, smaller batch gets its own array
        try (BatchLoader loader = new BatchLoader(data, batch, false, plain, 0, 0, 1)) {
            while (loader.hasNext()) {
                Batch b = loader.next();
                INDArray x;
                if (b.n() == batch) {
                    if (full == null) full = Nd4j.create(model.params().dataType(), batch, c.channels(), c.imageSize(), c.imageSize());
                    full.data().setData(b.images());
                    x = full;
                } else {
                    x = Nd4j.create(b.images(), new long[] {b.n(), c.channels(), c.imageSize(), c.imageSize()}, 'c').castTo(model.params().dataType());
                }
                int[] pred = model.predict(x);
                for (int i = 0; i < b.n(); i++) if (pred[i] == b.labels()[i]) correct++;
                b.release();
            }
        }
        return (double) correct / data.size();
    }
}
