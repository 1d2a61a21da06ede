package org.mae4j.engine;
// TEMPORARY stub so the tree compiles while the portable implementation is written.
public final class Nd4jKernels extends StubKernels {}
