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
    void heapSelectionEqualsAFullSortAcrossQueryBlocks() {
        // 600 queries span three of the product's query blocks; the bank repeats vectors, so ties must go to the lower index
        Random r = new Random(11);
        int d = 8, n = 300, m = 600, classes = 7;
        float[] bank = new float[n * d];
        int[] by = new int[n];
        for (int i = 0; i < n; i++) {
            by[i] = r.nextInt(classes);
            if (i >= 10 && r.nextInt(4) == 0) System.arraycopy(bank, r.nextInt(i) * d, bank, i * d, d);
            else for (int c = 0; c < d; c++) bank[i * d + c] = (float) r.nextGaussian();
        }
        float[] q = new float[m * d];
        int[] qy = new int[m];
        for (int i = 0; i < m; i++) { qy[i] = r.nextInt(classes); for (int c = 0; c < d; c++) q[i * d + c] = (float) r.nextGaussian(); }
        Features train = new Features(bank, by, n, d), queries = new Features(q, qy, m, d);
        for (int k : new int[] {1, 5, 20, 300, 400}) {
            Knn knn = new Knn(k, 0.07);
            Knn.Score got = knn.score(train, queries);
            double[] want = bySorting(knn, train, queries, classes);
            assertEquals(want[0], got.top1(), 1e-12, "top-1, k " + k);
            assertEquals(want[1], got.top5(), 1e-12, "top-5, k " + k);
        }
    }

    /**
     * The definition, slowly: the whole bank sorted, then the votes. The similarities are the same float products
     * score() ranks (one product per QUERY_BLOCK queries): sgemm kernels may round a column differently by its
     * position (edge blocks), so even duplicated bank vectors can differ in the last bit, and recomputing them
     * another way (in double, say) would test that rounding, not the heap selection (seen on an AMD EPYC host).
     */
    private static double[] bySorting(Knn knn, Features train, Features queries, int classes) {
        float[] b = Knn.normalized(train), q = Knn.normalized(queries);
        int d = train.d(), n = train.n();
        int top1 = 0, top5 = 0;
        org.nd4j.linalg.api.ndarray.INDArray bankT = org.nd4j.linalg.factory.Nd4j.create(b, new long[] {n, d}, 'c').transpose();   // [d, n], as score() holds it
        float[] products = null;
        for (int i = 0; i < queries.n(); i++) {
            if (i % Knn.QUERY_BLOCK == 0) products = Knn.blockSimilarities(q, i, Math.min(Knn.QUERY_BLOCK, queries.n() - i), d, bankT);
            double[] sim = new double[n];
            Integer[] order = new Integer[n];
            for (int j = 0; j < n; j++) {
                sim[j] = products[(i % Knn.QUERY_BLOCK) * n + j];
                order[j] = j;
            }
            java.util.Arrays.sort(order, (x, y) -> sim[x] != sim[y] ? Double.compare(sim[y], sim[x]) : Integer.compare(x, y));
            double[] votes = new double[classes];
            for (int r = 0; r < Math.min(knn.k(), n); r++) votes[train.labels()[order[r]]] += Math.exp(sim[order[r]] / knn.temperature());
            int y = queries.labels()[i], above = 0;
            for (int c = 0; c < classes; c++) if (votes[c] > votes[y] || (votes[c] == votes[y] && c < y)) above++;
            if (above == 0) top1++;
            if (above < 5) top5++;
        }
        return new double[] {(double) top1 / queries.n(), (double) top5 / queries.n()};
    }

    @Test
    void aTinyTemperatureVotesForTheNearestNeighbour() {
        // query (1, 0); class 1's one vector is the nearest (similarity 1), class 0's four lie at 10 degrees (0.985).
        // As T -> 0 the vote tends to the nearest neighbour's class. With exp(s / T), T = 1e-3 made every weight
        // infinite: all classes tied and the tie went to class 0 (issue 32: 19.40% at 1e-3, 52.20% at 0.002).
        float c = (float) Math.cos(Math.toRadians(10)), s = (float) Math.sin(Math.toRadians(10));
        Features train = new Features(new float[] {1, 0, c, s, c, -s, 2 * c, 2 * s, 3 * c, -3 * s}, new int[] {1, 0, 0, 0, 0}, 5, 2);
        Features asOne = new Features(new float[] {1, 0}, new int[] {1}, 1, 2), asZero = new Features(new float[] {1, 0}, new int[] {0}, 1, 2);
        for (double t : new double[] {1e-3, 1e-6, 1e-30, Double.MIN_VALUE}) {
            Knn knn = new Knn(5, t);
            assertEquals(1.0, knn.score(train, asOne).top1(), "T " + t + ": the nearest neighbour's class wins");
            assertEquals(0.0, knn.score(train, asZero).top1(), "T " + t);
        }
        // a moderate temperature still lets the four outvote the one (4 * exp(-0.015 / 0.07) = 3.2 > 1)
        assertEquals(1.0, new Knn(5, 0.07).score(train, asZero).top1());
    }

    @Test
    void aTinyTemperatureOnRandomDataEqualsOneNearestNeighbour() {
        Random r = new Random(5);
        int d = 8, n = 200, m = 300;
        float[] bank = new float[n * d], q = new float[m * d];
        int[] by = new int[n], qy = new int[m];
        for (int i = 0; i < n * d; i++) bank[i] = (float) r.nextGaussian();
        for (int i = 0; i < m * d; i++) q[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) by[i] = r.nextInt(5);
        for (int i = 0; i < m; i++) qy[i] = r.nextInt(5);
        Features train = new Features(bank, by, n, d), queries = new Features(q, qy, m, d);
        // T far below any gap between two similarities (floats, so gaps are >= ~6e-8 or 0): only the nearest counts
        Knn.Score oneNn = new Knn(1, 0.07).score(train, queries), tiny = new Knn(20, 1e-12).score(train, queries);
        assertEquals(oneNn.top1(), tiny.top1(), 1e-12);
        assertTrue(Double.isFinite(tiny.top5()));
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
