package org.mae4j.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Weighted k-nearest-neighbour classification of features (the protocol of InstDisc and DINO): features are
 * L2-normalised, a query's k most cosine-similar training features vote for their labels with weight
 * exp(similarity / temperature), and the classes are ranked by their summed votes. The weights are computed
 * relative to the query's best similarity, so any temperature > 0 is numerically safe.
 *
 * @param k           neighbours per query (20 in DINO)
 * @param temperature of the vote weights (0.07 in DINO)
 */
public record Knn(int k, double temperature) {
    public Knn {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        if (!(temperature > 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
    }

    /** DINO's settings: k = 20, temperature 0.07. */
    public static Knn dino() { return new Knn(20, 0.07); }

    /** Top-1 and top-5 accuracy of the queries. */
    public record Score(double top1, double top5, int n) {}

    /** Queries whose similarities to the whole bank are computed in one matrix product (memory: QUERY_BLOCK x n floats). */
    static final int QUERY_BLOCK = 256;   // package-private: the test ranks the same products

    /**
     * Scores the labeled queries against the labeled training features (both of the same dimension). The
     * similarities of a block of queries to the whole bank are one matrix product, and each query keeps its k
     * best in a heap: O(n log k) per query, not a sort of the bank, so 10k queries against 60k neighbours take
     * seconds. Ties go to the lower training index, so the result is deterministic.
     */
    public Score score(Features train, Features queries) {
        if (train.d() != queries.d()) throw new IllegalArgumentException("training features have " + train.d() + " dimensions, the queries " + queries.d());
        int classes = 0;
        for (int y : train.labels()) classes = Math.max(classes, y + 1);
        for (int y : queries.labels()) classes = Math.max(classes, y + 1);
        int d = train.d(), n = train.n(), kk = Math.min(k, n);
        INDArray bankT = Nd4j.create(normalized(train), new long[] {n, d}, 'c').transpose();      // [d, n]
        float[] q = normalized(queries);
        long top1 = 0, top5 = 0;
        double[] votes = new double[classes];
        int[] heap = new int[kk];
        for (int start = 0; start < queries.n(); start += QUERY_BLOCK) {
            int b = Math.min(QUERY_BLOCK, queries.n() - start);
            float[] sim = blockSimilarities(q, start, b, d, bankT);                                 // [b, n]
            for (int i = 0; i < b; i++) {
                int size = nearest(sim, i * n, n, heap);
                java.util.Arrays.fill(votes, 0);
                // exp((s - max) / T) instead of exp(s / T): the same ranking (every vote is scaled by exp(-max / T)),
                // but no overflow to infinity at small T (exp(1 / 1e-3) is infinite in a double, and inf == inf ties).
                // The nearest neighbour's vote is exactly 1, so as T -> 0 the vote tends to the top-1 neighbour's class.
                float max = Float.NEGATIVE_INFINITY;
                for (int r = 0; r < size; r++) max = Math.max(max, sim[i * n + heap[r]]);
                for (int r = 0; r < size; r++) votes[train.labels()[heap[r]]] += Math.exp(((double) sim[i * n + heap[r]] - max) / temperature);
                int y = queries.labels()[start + i], above = 0;
                for (int c = 0; c < classes; c++) if (votes[c] > votes[y] || (votes[c] == votes[y] && c < y)) above++;
                if (above == 0) top1++;
                if (above < 5) top5++;
            }
        }
        return new Score((double) top1 / queries.n(), (double) top5 / queries.n(), queries.n());
    }

    /** Similarities of the normalised queries [start, start + rows) (d floats each) to bankT [d, n]: [rows, n], row-major. */
    static float[] blockSimilarities(float[] q, int start, int rows, int d, INDArray bankT) {
        INDArray block = Nd4j.create(java.util.Arrays.copyOfRange(q, start * d, (start + rows) * d), new long[] {rows, d}, 'c');
        return block.mmul(bankT).dup('c').data().asFloat();
    }

    /**
     * The indices of the heap.length largest of sim[off .. off+n) (ties: lower index first), in heap[0..size)
     * as a min-heap on (similarity, then higher index = worse); returns size.
     */
    private static int nearest(float[] sim, int off, int n, int[] heap) {
        int size = 0;
        for (int j = 0; j < n; j++) {
            if (size < heap.length) {
                heap[size] = j;
                up(sim, off, heap, size++);
            } else if (better(sim, off, j, heap[0])) {
                heap[0] = j;
                down(sim, off, heap, size);
            }
        }
        return size;
    }

    /** Whether training item a ranks before b: higher similarity, then lower index. */
    private static boolean better(float[] sim, int off, int a, int b) {
        float sa = sim[off + a], sb = sim[off + b];
        return sa > sb || (sa == sb && a < b);
    }

    private static void up(float[] sim, int off, int[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!better(sim, off, heap[parent], heap[i])) break;   // the worst stays on top
            int t = heap[parent]; heap[parent] = heap[i]; heap[i] = t;
            i = parent;
        }
    }

    private static void down(float[] sim, int off, int[] heap, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && better(sim, off, heap[worst], heap[l])) worst = l;
            if (r < size && better(sim, off, heap[worst], heap[r])) worst = r;
            if (worst == i) return;
            int t = heap[worst]; heap[worst] = heap[i]; heap[i] = t;
            i = worst;
        }
    }

    /** The features scaled to unit L2 norm (a zero vector stays zero). */
    static float[] normalized(Features f) {
        int d = f.d();
        float[] out = new float[f.x().length];
        for (int i = 0; i < f.n(); i++) {
            double s = 0;
            for (int c = 0; c < d; c++) s += (double) f.x()[i * d + c] * f.x()[i * d + c];
            if (!Double.isFinite(s)) throw new IllegalArgumentException("feature vector " + i + " holds NaN or infinity");
            double inv = s > 0 ? 1 / Math.sqrt(s) : 0;
            for (int c = 0; c < d; c++) out[i * d + c] = (float) (f.x()[i * d + c] * inv);
        }
        return out;
    }
}
