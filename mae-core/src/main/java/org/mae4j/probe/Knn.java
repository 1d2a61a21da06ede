package org.mae4j.probe;

import java.util.Arrays;

/**
 * Weighted k-nearest-neighbour classification of features (the protocol of InstDisc and DINO): features are
 * L2-normalised, a query's k most cosine-similar training features vote for their labels with weight
 * exp(similarity / temperature), and the classes are ranked by their summed votes.
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

    /** Scores the labeled queries against the labeled training features (both of the same dimension). */
    public Score score(Features train, Features queries) {
        if (train.d() != queries.d()) throw new IllegalArgumentException("training features have " + train.d() + " dimensions, the queries " + queries.d());
        int classes = 0;
        for (int y : train.labels()) classes = Math.max(classes, y + 1);
        for (int y : queries.labels()) classes = Math.max(classes, y + 1);
        float[] bank = normalized(train);
        float[] q = normalized(queries);
        int d = train.d(), n = train.n(), kk = Math.min(k, n);
        long top1 = 0, top5 = 0;
        double[] sim = new double[n];
        double[] votes = new double[classes];
        Integer[] order = new Integer[n];
        for (int i = 0; i < queries.n(); i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) s += (double) q[i * d + c] * bank[j * d + c];
                sim[j] = s;
                order[j] = j;
            }
            // the k largest similarities (ties by index, so the result is deterministic)
            Arrays.sort(order, (a, b) -> sim[a] != sim[b] ? Double.compare(sim[b], sim[a]) : Integer.compare(a, b));
            Arrays.fill(votes, 0);
            for (int r = 0; r < kk; r++) votes[train.labels()[order[r]]] += Math.exp(sim[order[r]] / temperature);
            int y = queries.labels()[i], above = 0;
            for (int c = 0; c < classes; c++) if (votes[c] > votes[y] || (votes[c] == votes[y] && c < y)) above++;
            if (above == 0) top1++;
            if (above < 5) top5++;
        }
        return new Score((double) top1 / queries.n(), (double) top5 / queries.n(), queries.n());
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
