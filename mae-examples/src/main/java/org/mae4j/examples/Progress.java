package org.mae4j.examples;

import org.mae4j.train.Trainer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The per-epoch progress bar: loss, lr, images/s and the epoch's ETA. On a terminal it redraws one line; in a
 * log file (no console) it prints a line ten times an epoch, so that logs stay readable.
 */
final class Progress implements Trainer.Listener {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean terminal;
    private final int epochs;
    private double smoothedRate;
    private long epochStart = System.nanoTime();
    private int lastStepInEpoch, stepsSeen;

    Progress(PrintStream out, boolean terminal, int epochs) {
        this.out = out;
        this.terminal = terminal;
        this.epochs = epochs;
    }

    @Override
    public void onStep(Trainer.StepReport r) {
        if (lastStepInEpoch == 0) stepsSeen = 0;
        lastStepInEpoch = r.stepInEpoch();
        stepsSeen++;
        // Exponential smoothing: one slow step (a GC, a checkpoint) should not swing the ETA.
        smoothedRate = smoothedRate == 0 ? r.samplesPerSecond() : 0.9 * smoothedRate + 0.1 * r.samplesPerSecond();
        int left = r.stepsPerEpoch() - r.stepInEpoch();
        double perStep = (System.nanoTime() - epochStart) / 1e9 / stepsSeen;
        String line = line(r, left * perStep);
        if (terminal) {
            out.print("\r" + line);
            if (left == 0) out.println();
        } else if (r.stepInEpoch() == r.stepsPerEpoch() || r.stepInEpoch() % Math.max(1, r.stepsPerEpoch() / 10) == 0 || r.step() == 1) {
            out.println(line);
        }
        out.flush();
    }

    private String line(Trainer.StepReport r, double etaSeconds) {
        int filled = (int) ((long) WIDTH * r.stepInEpoch() / r.stepsPerEpoch());
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        return String.format(Locale.ROOT, "epoch %d/%d [%s] %d/%d loss %.4f lr %.3e %.0f samples/s ETA %s",
                r.epoch() + 1, epochs, bar, r.stepInEpoch(), r.stepsPerEpoch(), r.loss(), r.lr(), smoothedRate, clock(etaSeconds));
    }

    @Override
    public void onEpochEnd(Trainer.EpochReport r) {
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        StringBuilder metrics = new StringBuilder();
        r.metrics().forEach((k, v) -> metrics.append(String.format(Locale.ROOT, ", %s %.4f", k, v)));
        out.printf(Locale.ROOT, "epoch %d/%d done: mean loss %.4f%s, %s%s%n", r.epoch() + 1, epochs, r.meanLoss(), metrics, clock(seconds),
                r.checkpoint() == null ? "" : ", checkpoint " + r.checkpoint());
        lastStepInEpoch = 0;
        epochStart = System.nanoTime();
        out.flush();
    }

    static String clock(double seconds) {
        long s = Math.round(Math.max(0, seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
