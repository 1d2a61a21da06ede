package org.mae4j.probe;

import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.mae.MaskedAutoencoder;

import java.util.Objects;

/**
 * A k-NN score of an encoder as it trains (DINO's monitor): the same labeled bank and queries every time, their
 * features extracted afresh with the encoder's current weights. It only reads the weights, so the training it
 * watches goes on exactly as without it.
 *
 * @param bank          labeled images whose features vote (a part of the training set)
 * @param queries       labeled images scored (a held-out split, or the test set)
 * @param normalization the pretraining's pixel normalization (only {@code normalizeOnly} is used)
 * @param pool          feature per image
 * @param knn           k and temperature
 * @param batch         images per encoder pass
 */
public record KnnEvaluation(ImageDataset bank, ImageDataset queries, Augment normalization, Features.Pool pool, Knn knn, int batch) {
    public KnnEvaluation {
        Objects.requireNonNull(bank, "bank");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(normalization, "normalization");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(knn, "knn");
        if (!bank.hasLabels()) throw new IllegalArgumentException("a k-NN evaluation needs labels; " + bank + " has none");
        if (!queries.hasLabels()) throw new IllegalArgumentException("a k-NN evaluation needs labels; " + queries + " has none");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        queries = org.mae4j.data.ClassNames.alignTo(bank.classNames(), queries, "the queries " + queries);   // scored by the bank's label indices
    }

    /** The score, with the seconds it took (feature extraction dominates). */
    public record Result(Knn.Score score, double seconds) {}

    /** Scores the queries against the bank, both encoded by {@code model} as it is now. */
    public Result score(MaskedAutoencoder model) {
        long t0 = System.nanoTime();
        Features b = Features.extract(model, bank, normalization, pool, batch, null);
        Features q = Features.extract(model, queries, normalization, pool, batch, null);
        return new Result(knn.score(b, q), (System.nanoTime() - t0) / 1e9);
    }

    /** The same bank and settings, other queries (e.g. the test set at the end of a run). */
    public KnnEvaluation withQueries(ImageDataset other) {
        return new KnnEvaluation(bank, other, normalization, pool, knn, batch);
    }
}
