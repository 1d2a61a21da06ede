package org.mae4j.distributed;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** XGBoost4J's allReduce hands back the local data when the reduction fails: the appended 1.0f must sum to the world size. */
class SentinelGuardTest {
    @Test
    void aReducedBufferPasses() {
        // three ranks each sent {x, 1}: the check element came back as 1 + 1 + 1
        assertNull(XgbCollective.checkSentinel(new float[] {6f, 3f}, 1, 3));
    }

    @Test
    void anUnreducedBufferIsDetected() {
        // what the failed call returns: this rank's own buffer, check element still 1
        String problem = XgbCollective.checkSentinel(new float[] {2f, 5f, 1f}, 2, 2);
        assertNotNull(problem);
        assertTrue(problem.contains("unreduced"), problem);
    }

    @Test
    void aCorruptSumIsDetected() {
        String problem = XgbCollective.checkSentinel(new float[] {2f, 3f}, 1, 4);
        assertNotNull(problem);
        assertTrue(problem.contains("summed to 3.0") && problem.contains("world size 4"), problem);
    }

    @Test
    void aBufferOfTheWrongLengthIsDetected() {
        assertNotNull(XgbCollective.checkSentinel(new float[] {2f}, 1, 2));
        assertNotNull(XgbCollective.checkSentinel(null, 1, 2));
    }
}
