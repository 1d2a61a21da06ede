package org.mae4j.train;

import org.mae4j.io.Checkpoint;

/**
 * Where a training run stands. All of a run's randomness is a pure function of the seed and these counters
 * (data order and augmentation from (seed, epoch, position in the epoch), masks and other per-step noise
 * from (seed, micro-step, position in the global batch)), so they are its whole random state: a run resumed
 * from them takes exactly the steps the uninterrupted run takes.
 *
 * @param epoch       epochs completed
 * @param step        optimizer steps taken
 * @param microStep   forward/backward passes taken (step * accumulation steps)
 * @param samplesSeen training samples consumed, over all processes
 * @param seed        the run's seed
 */
public record TrainingState(int epoch, long step, long microStep, long samplesSeen, long seed) {
    public TrainingState {
        if (epoch < 0 || step < 0 || microStep < 0 || samplesSeen < 0) {
            throw new IllegalArgumentException("negative counters: epoch " + epoch + ", step " + step + ", microStep " + microStep + ", samples " + samplesSeen);
        }
    }

    /** The counters of a run that has not started. */
    public static TrainingState start(long seed) { return new TrainingState(0, 0, 0, 0, seed); }

    /** After one optimizer step of {@code micro} passes over {@code samples} samples in all. */
    TrainingState afterStep(int micro, long samples) { return new TrainingState(epoch, step + 1, microStep + micro, samplesSeen + samples, seed); }

    /** At the end of the current epoch. */
    TrainingState afterEpoch() { return new TrainingState(epoch + 1, step, microStep, samplesSeen, seed); }

    Checkpoint.State toCheckpoint() { return new Checkpoint.State(epoch, step, microStep, samplesSeen, seed); }

    public static TrainingState of(Checkpoint.State s) { return new TrainingState(s.epoch(), s.step(), s.microStep(), s.samplesSeen(), s.seed()); }
}
