package org.mae4j.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class LabelSubsetTest {

    /** Labels only (the draws never read a pixel): class c has 100 + 20c images, interleaved, of 5 classes. */
    private record Labelled(int[] labels) implements ImageDataset {
        static Labelled unbalanced() {
            int[] l = IntStream.range(0, 5).flatMap(c -> IntStream.range(0, 100 + 20 * c).map(i -> c)).toArray();
            // a fixed interleaving, so that classes are not in runs
            Random r = new Random(42);
            for (int i = l.length - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = l[i]; l[i] = l[j]; l[j] = t; }
            return new Labelled(l);
        }
        @Override public int size() { return labels.length; }
        @Override public int channels() { return 1; }
        @Override public int imageSize() { return 1; }
        @Override public boolean hasLabels() { return true; }
        @Override public List<String> classNames() { return List.of("a", "b", "c", "d", "e"); }
        @Override public void image(int i, float[] dst, int offset) { dst[offset] = i; }
        @Override public int label(int i) { return labels[i]; }
    }

    private static int[] countPerClass(ImageDataset d) {
        int[] n = new int[d.classNames().size()];
        for (int i = 0; i < d.size(); i++) n[d.label(i)]++;
        return n;
    }

    private static int[] indices(LabelSubset s) {
        return ((Split) s.images()).indices();
    }

    @Test
    void aFractionAndACountGiveTheSameNumberOfEveryClass() {
        Labelled data = Labelled.unbalanced();   // 700 images: 100, 120, 140, 160, 180 per class
        LabelSubset f = LabelSubset.draw(data, LabelSubset.Amount.parse("0.1"), data.size(), 0);
        assertArrayEquals(new int[] {14, 14, 14, 14, 14}, countPerClass(f.images()), "round(0.1 x 700 / 5) = 14 of every class");
        assertArrayEquals(new int[] {14, 14, 14, 14, 14}, f.perClass());
        assertEquals(70, f.images().size());
        assertEquals("14 per class x 5 classes = 70 of 700 training images (seed 0)", f.toString());

        LabelSubset c = LabelSubset.draw(data, LabelSubset.Amount.parse("500"), data.size(), 3);
        assertArrayEquals(new int[] {100, 100, 100, 100, 100}, countPerClass(c.images()), "500 / 5 classes, all of the smallest class");
        int[] idx = indices(c);
        assertEquals(500, Arrays.stream(idx).distinct().count(), "drawn without replacement");
        for (int i = 0; i < idx.length; i++) assertEquals(data.label(idx[i]), c.images().label(i), "labels stay with their images");

        LabelSubset all = LabelSubset.draw(data, LabelSubset.Amount.parse("1"), data.size(), 0);
        assertSame(data, all.images(), "1 = every label: no draw");
        assertArrayEquals(new int[] {100, 120, 140, 160, 180}, all.perClass());
    }

    @Test
    void theDrawIsAPureFunctionOfTheSeed() {
        Labelled data = Labelled.unbalanced();
        LabelSubset.Amount amount = LabelSubset.Amount.count(50);
        int[] a = indices(LabelSubset.draw(data, amount, data.size(), 7));
        // other random draws in between (global and seeded generators) change nothing
        Math.random();
        new Random(7).ints(1000).sum();
        new Random().nextLong();
        int[] b = indices(LabelSubset.draw(data, amount, data.size(), 7));
        assertArrayEquals(a, b, "same data, amount and seed: the same images");
        int[] other = indices(LabelSubset.draw(data, amount, data.size(), 8));
        assertFalse(Arrays.equals(a, other), "another seed draws other images");

        // one generator per class: for a seed, the smaller amount's images are among the larger one's
        int[] larger = indices(LabelSubset.draw(data, LabelSubset.Amount.count(250), data.size(), 7));
        for (int i : a) assertTrue(Arrays.binarySearch(larger, i) >= 0, "image " + i + " of the 50 is not among the 250");
    }

    @Test
    void theStratifiedHoldOutTakesEachClassItsShareAndTheLabelsComeFromTheRest() {
        Labelled data = Labelled.unbalanced();
        Split[] parts = Split.holdOutStratified(data, 0.25, 5);
        Split train = parts[0], val = parts[1];
        assertEquals(175, val.size(), "round(0.25 x 700)");
        assertArrayEquals(new int[] {25, 30, 35, 40, 45}, countPerClass(val), "a quarter of every class");
        int[] v = val.indices(), t = train.indices();
        assertEquals(700, IntStream.concat(Arrays.stream(v), Arrays.stream(t)).distinct().count(), "the parts split the data");
        assertArrayEquals(v, Split.holdOutStratified(data, 0.25, 5)[1].indices(), "seeded");
        assertFalse(Arrays.equals(v, Split.holdOutStratified(data, 0.25, 6)[1].indices()), "another seed, another split");

        // drawn from the training part: indices into the data itself, none of them held out
        LabelSubset s = LabelSubset.draw(train, LabelSubset.Amount.fraction(0.1), data.size(), 0);
        assertArrayEquals(new int[] {14, 14, 14, 14, 14}, countPerClass(s.images()), "the fraction is of all 700 images");
        for (int i : indices(s)) assertTrue(Arrays.binarySearch(v, i) < 0, "labelled image " + i + " is in the validation split");
        assertSame(data, ((Split) s.images()).base());
        assertEquals(525, s.poolSize());
    }

    @Test
    void impossibleAmountsAreRefusedNamingTheValue() {
        Labelled data = Labelled.unbalanced();
        for (String bad : new String[] {"0", "-1", "1.5", "abc", "", "0.5.1", "NaN", "1e400"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LabelSubset.Amount.parse(bad), bad);
            assertTrue(e.getMessage().startsWith(bad + " "), e.getMessage());
        }
        assertEquals(LabelSubset.Amount.fraction(0.01), LabelSubset.Amount.parse("0.01"));
        assertEquals(LabelSubset.Amount.count(600), LabelSubset.Amount.parse("600"));
        assertEquals("0.0000001", LabelSubset.Amount.parse("1e-7").toString(), "the canonical text reads back");

        String tiny = assertThrows(IllegalArgumentException.class,
                () -> LabelSubset.draw(data, LabelSubset.Amount.parse("0.0000001"), data.size(), 0)).getMessage();
        assertTrue(tiny.contains("0 per class") && tiny.contains("at least one per class"), tiny);
        String uneven = assertThrows(IllegalArgumentException.class, () -> LabelSubset.draw(data, LabelSubset.Amount.count(52), data.size(), 0)).getMessage();
        assertTrue(uneven.contains("not a multiple of the 5 classes") && uneven.contains("50 or 55"), uneven);
        String few = assertThrows(IllegalArgumentException.class, () -> LabelSubset.draw(data, LabelSubset.Amount.count(3), data.size(), 0)).getMessage();
        assertTrue(few.contains("fewer than the 5 classes"), few);
        String many = assertThrows(IllegalArgumentException.class, () -> LabelSubset.draw(data, LabelSubset.Amount.count(505), data.size(), 0)).getMessage();
        assertTrue(many.startsWith("505 asks for 101 images per class, but class 0 (a) has only 100"), many);
    }
}
