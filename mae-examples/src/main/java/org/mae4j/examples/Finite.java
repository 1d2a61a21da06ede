package org.mae4j.examples;

import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Refusing NaN and infinity in weights and inputs before they poison a whole result (issue 16). */
final class Finite {
    private Finite() {}

    /** Whether every value is finite. */
    static boolean all(INDArray a) {
        for (float v : a.dup('c').reshape(a.length()).toFloatVector()) if (!Float.isFinite(v)) return false;
        return true;
    }

    /** Throws, naming the source and the first tensor holding NaN or infinity. */
    static void requireWeights(ParamStore store, Object source) {
        for (ParamStore.Entry e : store.entries()) {
            if (!all(store.param(e.name()))) throw new IllegalArgumentException(source + ": tensor " + e.name() + " holds NaN or infinity");
        }
    }
}
