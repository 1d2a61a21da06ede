package org.mae4j.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes near the int limits, as a corrupt config file can carry: refused at once with a message, not a hang
 * (an L that overflowed to 0 sent largestRatioKeepingOne into an endless loop) or an ArithmeticException (the
 * divisor list counted past 2^31 - 1).
 */
class ConfigBoundsTest {

    @Test
    void hugeGridIsRefusedQuickly() {
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(IllegalArgumentException.class,
                () -> new MaeConfig(65536, 1, 3, new VitSpec(32, 1, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6)));
        assertTrue(e.getMessage().contains("46340"), e.getMessage());
        // the largest grid allowed still works: 46340^2 < 2^31
        assertEquals(46340 * 46340, new MaeConfig(46340, 1, 1, new VitSpec(4, 1, 1, 1), new VitSpec(4, 1, 1, 1), 0, false, 1e-6).numPatches());
    }

    @Test
    void divisorListOfAHugeWidthIsQuickAndRight() {
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(IllegalArgumentException.class, () -> new VitSpec(Integer.MAX_VALUE, 1, 2, 4)));
        assertTrue(e.getMessage().endsWith("valid head counts for this width: 1, 2147483647"), e.getMessage());   // 2^31 - 1 is prime
        IllegalArgumentException twelve = assertThrows(IllegalArgumentException.class, () -> new VitSpec(12, 1, 5, 4));
        assertTrue(twelve.getMessage().endsWith(": 1, 2, 3, 4, 6, 12"), twelve.getMessage());
        IllegalArgumentException square = assertThrows(IllegalArgumentException.class, () -> new VitSpec(36, 1, 5, 4));
        assertTrue(square.getMessage().endsWith(": 1, 2, 3, 4, 6, 9, 12, 18, 36"), square.getMessage());
    }
}
