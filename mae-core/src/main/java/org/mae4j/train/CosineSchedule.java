package org.mae4j.train;

/**
 * The reference's learning-rate schedule ({@code util/lr_sched.py}), evaluated per iteration: linear warmup
 * from 0 to baseLr over warmupSteps, then a half cycle of cosine from baseLr down to minLr at totalSteps.
 * Pure: lr(step) depends on nothing else.
 */
public record CosineSchedule(double baseLr, double minLr, long warmupSteps, long totalSteps) {

    public CosineSchedule {
        if (!(baseLr >= 0) || !(minLr >= 0) || minLr > baseLr) {
            throw new IllegalArgumentException("need 0 <= minLr <= baseLr, got minLr " + minLr + ", baseLr " + baseLr);
        }
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got " + warmupSteps + ", " + totalSteps);
        }
    }

    /** Learning rate at a (0-based) step; steps past totalSteps stay at minLr. */
    public double lr(long step) {
        if (step < warmupSteps) return baseLr * step / warmupSteps;
        if (totalSteps == warmupSteps) return baseLr;
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    /** The reference's scaling rule: absolute lr = blr * effective batch / 256. */
    public static double absoluteLr(double blr, int effectiveBatch) {
        if (!(blr > 0) || effectiveBatch <= 0) throw new IllegalArgumentException("need blr > 0 and a positive batch, got " + blr + ", " + effectiveBatch);
        return blr * effectiveBatch / 256.0;
    }
}
