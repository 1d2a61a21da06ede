package org.mae4j.examples.viz;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AxisTest {

    @Test
    void niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertEquals(0.1, Axis.niceStep(0.1), 1e-12);
        assertEquals(0.2, Axis.niceStep(0.13), 1e-12);
        assertEquals(5, Axis.niceStep(3), 1e-12);
        assertEquals(100, Axis.niceStep(51), 1e-12);
    }

    @Test
    void linearAxisSnapsOutwardsToTicks() {
        Axis a = Axis.fit(0.31, 0.92, false, 7);   // raw step 0.087 -> 0.1
        assertEquals(0.3, a.lo(), 1e-12);
        assertEquals(1.0, a.hi(), 1e-12);
        assertEquals(List.of("0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"), a.ticks().stream().map(a::label).toList());
        assertEquals(0.5, a.fraction(0.65), 1e-12);
    }

    @Test
    void endsThatAreAlreadyMultiplesAreKept() {
        Axis a = Axis.fit(0.3, 0.9, false, 6);   // 0.3 / 0.1 is 2.9999999999999996 in doubles
        assertEquals(0.3, a.lo(), 1e-12);
        assertEquals(0.9, a.hi(), 1e-12);
    }

    @Test
    void aSingleValueGetsAWindowAroundIt() {
        Axis a = Axis.fit(5, 5, false, 5);
        assertTrue(a.lo() < 5 && a.hi() > 5);
        Axis z = Axis.fit(0, 0, false, 5);
        assertTrue(z.lo() < 0 && z.hi() > 0);
        Axis l = Axis.fit(3, 3, true, 5);
        assertTrue(l.lo() < 3 && l.hi() > 3 && l.lo() > 0);
    }

    @Test
    void logAxisUsesDecadesAcrossAtLeastOne() {
        Axis a = Axis.fit(0.002, 3, true, 5);
        assertEquals(0.001, a.lo(), 1e-15);
        assertEquals(10, a.hi(), 1e-12);
        assertEquals(List.of("0.001", "0.01", "0.1", "1", "10"), a.ticks().stream().map(a::label).toList());
        assertEquals(0.5, a.fraction(0.1), 1e-12);
        assertEquals("1e-7", Axis.fit(1e-7, 1e-5, true, 5).label(1e-7));
    }

    @Test
    void narrowLogAxisStillGetsSeveralTicks() {
        Axis a = Axis.fit(0.31, 0.92, true, 6);
        assertTrue(a.ticks().size() >= 4, a.ticks().toString());
        assertTrue(a.lo() > 0 && a.lo() <= 0.31 && a.hi() >= 0.92);
    }

    @Test
    void hugeAndTinyLinearLabelsUseScientificNotation() {
        Axis big = Axis.fit(0, 3e7, false, 3);
        assertTrue(big.label(big.ticks().get(1)).contains("e+07"), big.label(big.ticks().get(1)));
        assertEquals("0", big.label(0));
    }

    @Test
    void rejectsBadRanges() {
        assertThrows(IllegalArgumentException.class, () -> Axis.fit(1, 0, false, 5));
        assertThrows(IllegalArgumentException.class, () -> Axis.fit(Double.NaN, 1, false, 5));
        assertThrows(IllegalArgumentException.class, () -> Axis.fit(0, 1, true, 5));
    }
}
