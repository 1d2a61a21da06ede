/**
 * Image readers and per-image transforms, with no hidden downloads: datasets, augmentation, the batch loader.
 * May import config only (PackageLayeringTest).
 */
package org.mae4j.data;
