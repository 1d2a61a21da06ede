package org.mae4j.data;

import org.junit.jupiter.api.Test;
import org.mae4j.probe.Features;
import org.mae4j.probe.Knn;
import org.mae4j.probe.KnnEvaluation;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A test set's label indices are made the training classes', or the set is refused naming the classes the training lacks. */
class ClassNamesTest {

    /** Labels 0, 1, 2, ... cycling through the class names; blank images. */
    private record Named(List<String> classNames, int size) implements ImageDataset {
        @Override public int channels() { return 1; }
        @Override public int imageSize() { return 2; }
        @Override public void image(int i, float[] dst, int offset) {}
        @Override public boolean hasLabels() { return true; }
        @Override public int label(int i) { return i % classNames.size(); }
    }

    @Test
    void extraClassesAreRefusedAndSomeClassesAreRelabelled() {
        List<String> train = List.of("cat", "dog", "emu");
        Named same = new Named(train, 3);
        assertSame(same, ClassNames.alignTo(train, same, "t"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClassNames.alignTo(train, new Named(List.of("bird", "cat"), 2), "--test-data x"));
        assertEquals("--test-data x has class bird that the training classes (cat, dog, emu) lack; a test set may hold only classes the model was trained on", e.getMessage());
        ImageDataset dogsEmus = ClassNames.alignTo(train, new Named(List.of("dog", "emu"), 4), "t");
        assertEquals(List.of(1, 2, 1, 2), java.util.stream.IntStream.range(0, 4).map(dogsEmus::label).boxed().toList());
        assertEquals(train, dogsEmus.classNames());
        assertThrows(IllegalArgumentException.class, () -> ClassNames.requireClassifiable(new Named(List.of("cat"), 2), "d"));
        ClassNames.requireClassifiable(same, "d");
        // the library's k-NN monitor checks its queries against its bank the same way
        Augment norm = Augment.mae(1);
        assertThrows(IllegalArgumentException.class, () -> new KnnEvaluation(same, new Named(List.of("bird", "fish"), 2), norm, Features.Pool.CLS, Knn.dino(), 8));
        assertEquals(List.of(1, 1), java.util.stream.IntStream.range(0, 2)
                .map(new KnnEvaluation(same, new Named(List.of("dog"), 2), norm, Features.Pool.CLS, Knn.dino(), 8).queries()::label).boxed().toList());
    }
}
