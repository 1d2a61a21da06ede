package org.mae4j.finetune;

import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.Batch;
import org.mae4j.data.BatchLoader;
import org.mae4j.data.ImageDataset;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A classifier's scores on a labeled dataset: top-1, top-5 and the confusion matrix, images normalized only
 * (no crop or flip), the encoder in its inference pass.
 *
 * @param top1      fraction of images whose highest logit is their class
 * @param top5      fraction whose class is among the five highest logits (all classes when there are fewer)
 * @param confusion counts [true class][predicted class]
 */
public record Classification(double top1, double top5, long[][] confusion) {

    public static Classification score(VitClassifier model, ImageDataset data, Normalization norm, int batch) {
        if (!data.hasLabels()) throw new IllegalArgumentException("scoring needs labels; " + data + " has none");
        int classes = model.classes();
        Augment plain = Augment.none(data.channels()).withNormalization(norm.mean(), norm.std());
        long[][] confusion = new long[classes][classes];
        long top1 = 0, top5 = 0;
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
                double[] logits = model.logits(x);
                for (int i = 0; i < b.n(); i++) {
                    int y = b.labels()[i], o = i * classes, best = 0, above = 0;
                    if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " of " + data + " is outside the classifier's " + classes + " classes");
                    for (int k = 1; k < classes; k++) if (logits[o + k] > logits[o + best]) best = k;
                    for (int k = 0; k < classes; k++) if (logits[o + k] > logits[o + y]) above++;
                    confusion[y][best]++;
                    if (best == y) top1++;
                    if (above < 5) top5++;
                }
                b.release();
            }
        }
        return new Classification((double) top1 / data.size(), (double) top5 / data.size(), confusion);
    }
}
