package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.mae4j.data.FashionMnist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedFashionMnistTest {

    @Test
    void testSplitHasTenThousandImagesOfEveryClass() {
        FashionMnist test = EmbeddedFashionMnist.load(false);
        assertEquals(10000, test.size());
        assertEquals(1, test.channels());
        assertEquals(28, test.imageSize());
        assertEquals(FashionMnist.CLASS_NAMES, test.classNames());
        int[] perClass = new int[10];
        for (int i = 0; i < test.size(); i++) {
            int l = test.label(i);
            assertTrue(l >= 0 && l <= 9, "label " + i + " is " + l);
            perClass[l]++;
        }
        // The published test split is balanced: 1000 per class.
        for (int c = 0; c < 10; c++) assertEquals(1000, perClass[c], "class " + c);
        float[] img = new float[784];
        test.image(0, img, 0);
        float min = 1, max = 0;
        for (float v : img) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min >= 0 && max <= 1 && max > 0.5f, "first image in [0,1] and not blank: " + min + ".." + max);
    }
}
