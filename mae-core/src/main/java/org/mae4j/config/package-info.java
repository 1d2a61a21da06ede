/**
 * Validated immutable records with named presets: the model's shape and the input normalization.
 * Imports no other mae4j package: the bottom of docs/architecture.md's package table (PackageLayeringTest).
 */
package org.mae4j.config;
