/**
 * Linear probing on frozen encoder features: the features, the BatchNorm + linear head, its training job.
 * May import mae and all below it (config, engine, io, data, nn, train); not finetune or embed (PackageLayeringTest).
 */
package org.mae4j.probe;
