/**
 * mae-core's train.Collective on XGBoost4J's all-reduce, with its tracker (docs/distributed.md).
 * May import mae-core and XGBoost4J only: not the command line, its charts or Spark (ModuleLayeringTest).
 */
package org.mae4j.distributed;
