package org.mae4j.data;

import java.util.List;
import java.util.Objects;

/**
 * The first {@code size} images of another dataset: for quick runs and smoke tests ({@code --limit}).
 *
 * @param base the dataset to take from
 * @param size how many images, 1..base.size()
 */
public record Subset(ImageDataset base, int size) implements ImageDataset {
    public Subset {
        Objects.requireNonNull(base, "base");
        if (size < 1 || size > base.size()) {
            throw new IllegalArgumentException("subset size must be in [1, " + base.size() + "] for " + base + ", got " + size);
        }
    }

    @Override public int channels() { return base.channels(); }
    @Override public int imageSize() { return base.imageSize(); }
    @Override public boolean hasLabels() { return base.hasLabels(); }
    @Override public List<String> classNames() { return base.classNames(); }

    @Override
    public void image(int i, float[] dst, int offset) {
        Objects.checkIndex(i, size);
        base.image(i, dst, offset);
    }

    @Override
    public int label(int i) {
        Objects.checkIndex(i, size);
        return base.label(i);
    }

    @Override public String toString() { return "first " + size + " of " + base; }
}
