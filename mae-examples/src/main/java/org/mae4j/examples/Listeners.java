package org.mae4j.examples;

import org.mae4j.train.Trainer;

/** Combining the engine's listeners. */
final class Listeners {
    private Listeners() {}

    /** a, then b, for every event. */
    static Trainer.Listener both(Trainer.Listener a, Trainer.Listener b) {
        return new Trainer.Listener() {
            @Override public void onStep(Trainer.StepReport r) { a.onStep(r); b.onStep(r); }
            @Override public void onEpochEnd(Trainer.EpochReport r) { a.onEpochEnd(r); b.onEpochEnd(r); }
        };
    }
}
