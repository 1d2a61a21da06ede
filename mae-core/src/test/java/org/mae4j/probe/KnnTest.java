package org.mae4j.probe;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Weighted kNN: answers worked out by hand on tiny sets, and clusters it must separate. */
class KnnTest {

    @Test
    void theNearestNeighboursVoteWithExponentialWeights() {
        // training directions: class 0 near the x axis, class 1 near the y axis; the query at 30 degrees
        Features train = new Features(new float[] {1, 0, 2, 0.1f, 0, 1, 0.1f, 3}, new int[] {0, 0, 1, 1}, 4, 2);
        float c = (float) Math.cos(Math.toRadians(30)), s = (float) Math.sin(Math.toRadians(30));
        Features query = new Features(new float[] {c, s}, new int[] {0}, 1, 2);
        assertEquals(1.0, new Knn(4, 0.07).score(train, query).top1(), "class 0's vectors are closer to 30 degrees");
        // k = 1: only the single nearest, (2, 0.1) at 27.1 degrees from the query, votes
        assertEquals(1.0, new Knn(1, 0.07).score(train, query).top1());
        // a query at 60 degrees is class 1's: labelled 0 it is wrong at top-1, right within top-5 (2 classes)
        Features q60 = new Features(new float[] {s, c}, new int[] {0}, 1, 2);
        Knn.Score sc = new Knn(4, 0.07).score(train, q60);
        assertEquals(0.0, sc.top1());
        assertEquals(1.0, sc.top5());
    }

    @Test
    void separatesClustersAndIgnoresScale() {
        Random r = new Random(3);
        int d = 16, n = 200;
        float[][] centres = new float[4][d];
        for (float[] m : centres) for (int i = 0; i < d; i++) m[i] = (float) r.nextGaussian();
        float[] x = new float[2 * n * d];
        int[] y = new int[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            y[i] = i % 4;
            float scale = 0.1f + 10 * r.nextFloat();   // cosine similarity: the length must not matter
            for (int c = 0; c < d; c++) x[i * d + c] = scale * (centres[y[i]][c] + 0.2f * (float) r.nextGaussian());
        }
        Features train = new Features(java.util.Arrays.copyOf(x, n * d), java.util.Arrays.copyOf(y, n), n, d);
        Features test = new Features(java.util.Arrays.copyOfRange(x, n * d, 2 * n * d), java.util.Arrays.copyOfRange(y, n, 2 * n), n, d);
        assertEquals(1.0, Knn.dino().score(train, test).top1());
        // shuffled training labels: about chance (1/4)
        int[] shuffled = train.labels().clone();
        for (int i = shuffled.length - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = shuffled[i]; shuffled[i] = shuffled[j]; shuffled[j] = t; }
        double chance = Knn.dino().score(new Features(train.x(), shuffled, n, d), test).top1();
        assertTrue(chance < 0.45, "with random labels kNN must fall to about chance, got " + chance);
    }

    @Test
    void badInputIsNamed() {
        Features a = new Features(new float[] {1, Float.NaN}, new int[] {0}, 1, 2);
        Features b = new Features(new float[] {1, 0}, new int[] {0}, 1, 2);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.dino().score(a, b)).getMessage().contains("NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Knn.dino().score(b, new Features(new float[] {1, 0, 0}, new int[] {0}, 1, 3))).getMessage().contains("dimensions"));
        assertThrows(IllegalArgumentException.class, () -> new Knn(0, 0.07));
    }
}
