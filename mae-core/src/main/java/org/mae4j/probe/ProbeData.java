package org.mae4j.probe;

import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.BatchLoader;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.train.TrainData;

import java.util.List;
import java.util.Random;

/**
 * The probe's training samples: frozen-encoder features. Without augmentation they are extracted once and
 * shuffled each epoch; with it (the reference's RandomResizedCrop + flip), every epoch's features are
 * extracted anew from images cropped and flipped by (seed, epoch, image), as the reference does, which costs
 * one encoder pass over the training set per epoch.
 */
public final class ProbeData {
    private ProbeData() {}

    /** Features computed once. */
    public static TrainData fixed(Features f) {
        return TrainData.features(f.x(), f.labels(), f.d());
    }

    /**
     * Features of augmented images, extracted anew for each epoch.
     *
     * @param crop the crop and flip (its normalization is applied after, as in {@link Features#extract})
     */
    public static TrainData augmented(MaskedAutoencoder model, ImageDataset data, Augment crop, Features.Pool pool, int lastBlocks, int batch) {
        int d = lastBlocks * model.config().encoder().width();
        Augment cropOnly = crop.withNormalization(new float[crop.channels()], ones(crop.channels()));
        return new TrainData() {
            private int cachedEpoch = -1;
            private long cachedSeed;
            private Features cached;

            @Override public int size() { return data.size(); }
            @Override public int sampleLength() { return d; }

            @Override public Source open(long seed, int epoch, int fromBatch, int b, int shareOffset, int shareSize) {
                if (cached == null || cachedEpoch != epoch || cachedSeed != seed) {
                    cached = Features.extract(model, new Cropped(data, cropOnly, seed, epoch), crop, pool, lastBlocks, batch, null);
                    cachedEpoch = epoch;
                    cachedSeed = seed;
                }
                return TrainData.features(cached.x(), cached.labels(), d).open(seed, epoch, fromBatch, b, shareOffset, shareSize);
            }

            @Override public String toString() { return "features of " + data + " under " + crop + ", new each epoch"; }
        };
    }

    private static float[] ones(int c) {
        float[] r = new float[c];
        java.util.Arrays.fill(r, 1f);
        return r;
    }

    /** The dataset's images cropped and flipped by a generator keyed on (seed, epoch, index): the same on every run. */
    private record Cropped(ImageDataset base, Augment crop, long seed, int epoch) implements ImageDataset {
        @Override public int size() { return base.size(); }
        @Override public int channels() { return base.channels(); }
        @Override public int imageSize() { return base.imageSize(); }
        @Override public boolean hasLabels() { return base.hasLabels(); }
        @Override public int label(int i) { return base.label(i); }
        @Override public List<String> classNames() { return base.classNames(); }

        @Override
        public void image(int i, float[] dst, int offset) {
            float[] src = new float[base.imageLength()];
            base.image(i, src, 0);
            crop.apply(src, 0, base.channels(), base.imageSize(), dst, offset, new Random(BatchLoader.sampleSeed(seed, epoch, i)));
        }
    }
}
