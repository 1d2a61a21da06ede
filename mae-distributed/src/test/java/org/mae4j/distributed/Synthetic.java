package org.mae4j.distributed;

import org.mae4j.data.ImageDataset;

import java.util.List;
import java.util.Random;

/** n smooth random 3-channel 16 px images (something to learn), the same in every process. */
record Synthetic(int size, long seed) implements ImageDataset {
    @Override public int channels() { return 3; }
    @Override public int imageSize() { return 16; }
    @Override public boolean hasLabels() { return false; }
    @Override public int label(int i) { throw new IllegalStateException("unlabeled"); }
    @Override public List<String> classNames() { return List.of(); }

    @Override
    public void image(int i, float[] dst, int offset) {
        Random r = new Random(seed * 31 + i);
        double fx = r.nextDouble() * 0.5, fy = r.nextDouble() * 0.5, ph = r.nextDouble() * 6;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) dst[offset + (c * 16 + y) * 16 + x] = (float) (0.5 + 0.4 * Math.sin(fx * x + fy * y + ph + c));
            }
        }
    }
}
