/**
 * The encoder in downstream code: Embedder, pictures in, vectors out (docs/embedding.md).
 * May import mae and all below it (config, engine, io, data, nn, train); not finetune or probe (PackageLayeringTest).
 */
package org.mae4j.embed;
