/**
 * ViT layers, each a forward/backward pair over views of the flat buffers: Linear, LayerNorm, Attention, Mlp.
 * May import config and engine only (PackageLayeringTest).
 */
package org.mae4j.nn;
