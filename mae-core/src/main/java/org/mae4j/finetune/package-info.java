/**
 * The encoder with a classification head, all trained: VitClassifier, its fine-tuning job, the metrics.
 * May import mae and all below it (config, engine, io, data, nn, train); not probe or embed (PackageLayeringTest).
 */
package org.mae4j.finetune;
