/**
 * A Spark barrier-mode stage per data-parallel run, each task one worker of the collective (Spark provided).
 * Imports mae-core, mae-distributed and, until a run is built without the CLI (issue 30), mae-examples.
 */
package org.mae4j.spark;
