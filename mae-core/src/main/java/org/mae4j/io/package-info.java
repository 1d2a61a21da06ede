/**
 * Files, knowing nothing of models or training: checkpoints, .npy and .safetensors, atomic writes, weight names.
 * May import config and engine only (PackageLayeringTest).
 */
package org.mae4j.io;
