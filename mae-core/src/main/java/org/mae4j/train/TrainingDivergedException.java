package org.mae4j.train;

/** The loss became NaN or infinite; training stopped before the optimizer step, the last checkpoint is intact. */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch;
    private final long step;
    private final double lr, loss;

    public TrainingDivergedException(int epoch, long step, double lr, double loss) {
        super(String.format(java.util.Locale.ROOT,
                "training diverged: loss %s at epoch %d, step %d, lr %.3e; try a lower --blr or more --warmup-epochs (the last checkpoint is unchanged)",
                loss, epoch, step, lr));
        this.epoch = epoch;
        this.step = step;
        this.lr = lr;
        this.loss = loss;
    }

    public int epoch() { return epoch; }
    public long step() { return step; }
    public double lr() { return lr; }
    public double loss() { return loss; }
}
