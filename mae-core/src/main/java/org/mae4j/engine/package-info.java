/**
 * Flat parameter and gradient buffers and the arithmetic over them: Kernels, its two paths, the gemm choice.
 * Imports no other mae4j package: the bottom of docs/architecture.md's package table (PackageLayeringTest).
 */
package org.mae4j.engine;
