/**
 * The ./mae command line (picocli): commands, option mixins, run plumbing, worker launcher, benchmarks.
 * May import mae-core, mae-distributed and its own viz package; never mae-spark (ModuleLayeringTest).
 */
package org.mae4j.examples;
