/**
 * The one training engine: Trainer's loop over a Trainable, optimizers, schedules, run folders, collectives.
 * May import config, engine, io and data; no model package (PackageLayeringTest).
 */
package org.mae4j.train;
