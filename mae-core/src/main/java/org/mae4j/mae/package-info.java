/**
 * The masked autoencoder, one class per box of the paper's figure, its pretraining job and weight loading.
 * May import config, engine, io, data, nn and train; not finetune, probe or embed (PackageLayeringTest).
 */
package org.mae4j.mae;
