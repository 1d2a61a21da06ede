package org.mae4j.examples;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options every training command shares with the same meaning and default (a picocli mixin): resuming,
 * stopping, saving, the seed and gradient accumulation. Recipe options whose defaults differ per command
 * (epochs, batch, learning rates) live in the commands.
 */
final class RunOptions {
    @Option(names = "--resume", description = "Continue the run of this checkpoint (its model, seed, data and recipe are kept; see --change-schedule).")
    Path resume;
    @Option(names = "--change-schedule", description = "With --resume: allow new --epochs, --blr, --min-lr or --warmup-epochs (logged; the cosine schedule is recomputed).")
    boolean changeSchedule;
    @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many optimizer steps in total, with a checkpoint (0 = no limit).")
    long maxSteps;
    @Option(names = "--save-every", defaultValue = "1", description = "Write the checkpoint every N epochs (and at the end, and when stopped).")
    int saveEvery;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of initialization, data order, augmentation and every random draw.")
    long seed;
    @Option(names = "--accum", defaultValue = "1", description = "Gradient accumulation steps (effective batch = batch x accum).")
    int accum;
}
