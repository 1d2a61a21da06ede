package org.mae4j.engine;

/**
 * Whether this JVM can use the Vector API. Kept apart from {@link VectorLoops} on purpose: asking VectorLoops
 * would load it, and loading it fails with NoClassDefFoundError when {@code jdk.incubator.vector} is not in
 * the boot layer (a JVM started without {@code --add-modules jdk.incubator.vector}).
 */
public final class VectorSupport {
    private VectorSupport() {}

    /** True when the JVM was started with {@code --add-modules jdk.incubator.vector}. */
    public static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }
}
