/**
 * Pictures of runs as PNG: reconstruction grids, loss curves, confusion matrices, label efficiency.
 * May import mae-core (io's atomic writes) and the chart library; not the commands around it (ModuleLayeringTest).
 */
package org.mae4j.examples.viz;
