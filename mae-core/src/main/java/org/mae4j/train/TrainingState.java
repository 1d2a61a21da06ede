package org.mae4j.train;

/**
 * Where a training run stands, as saved in checkpoints. Randomness is a pure function of the seed and these
 * counters (masking noise from (seed, micro-step), data order from (seed, epoch)), so no generator state
 * needs saving for an exact resume.
 *
 * @param epoch        epochs completed
 * @param step         optimizer steps taken
 * @param microStep    forward/backward passes taken (step * accumulation steps at epoch ends)
 * @param seed         the run's seed
 */
public record TrainingState(int epoch, long step, long microStep, long seed) {
    public TrainingState {
        if (epoch < 0 || step < 0 || microStep < 0) throw new IllegalArgumentException("negative counters: epoch " + epoch + ", step " + step + ", microStep " + microStep);
    }

    public static TrainingState start(long seed) { return new TrainingState(0, 0, 0, seed); }
}
