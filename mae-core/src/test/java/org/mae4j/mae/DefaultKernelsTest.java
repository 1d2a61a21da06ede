package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Nd4jKernels;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel choice: auto by backend and dtype, portable on request (the GPU check's way to force it), fast or an error. */
class DefaultKernelsTest {

    @Test
    void autoPicksTheFastPathForFloatOnTheCpuAndThePortableOneOtherwise() {
        assertInstanceOf(CpuKernels.class, MaskedAutoencoder.defaultKernels(DataType.FLOAT, "auto"));
        assertInstanceOf(Nd4jKernels.class, MaskedAutoencoder.defaultKernels(DataType.DOUBLE, "auto"));
    }

    @Test
    void portableIsForcedAndFastIsDemanded() {
        assertInstanceOf(Nd4jKernels.class, MaskedAutoencoder.defaultKernels(DataType.FLOAT, "portable"));
        assertInstanceOf(Nd4jKernels.class, MaskedAutoencoder.defaultKernels(DataType.FLOAT, "PORTABLE"));
        assertInstanceOf(CpuKernels.class, MaskedAutoencoder.defaultKernels(DataType.FLOAT, "fast"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MaskedAutoencoder.defaultKernels(DataType.DOUBLE, "fast"));
        assertTrue(e.getMessage().contains("DOUBLE"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> MaskedAutoencoder.defaultKernels(DataType.FLOAT, "gpu"));
        assertTrue(bad.getMessage().contains("'gpu'"), bad.getMessage());
    }

    @Test
    void thePropertyBeatsTheEnvironmentWhichBeatsAuto() {
        String before = System.getProperty(MaskedAutoencoder.KERNELS_PROPERTY);
        try {
            System.clearProperty(MaskedAutoencoder.KERNELS_PROPERTY);
            assertEquals("auto", MaskedAutoencoder.kernelsRequest(name -> null));
            assertEquals("portable", MaskedAutoencoder.kernelsRequest(name -> name.equals(MaskedAutoencoder.KERNELS_ENV) ? " portable " : null));
            System.setProperty(MaskedAutoencoder.KERNELS_PROPERTY, "fast");
            assertEquals("fast", MaskedAutoencoder.kernelsRequest(name -> "portable"));
        } finally {
            if (before == null) System.clearProperty(MaskedAutoencoder.KERNELS_PROPERTY); else System.setProperty(MaskedAutoencoder.KERNELS_PROPERTY, before);
        }
    }
}
