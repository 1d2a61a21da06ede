package org.mae4j.examples;

import org.mae4j.io.Checkpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;

/**
 * What a resumed run takes from its checkpoint: the checkpoint's values win for every option that was not
 * given; a given option that fixes the run's identity (model, seed, batch, data) must agree with it, and one
 * that changes the schedule (epochs, learning rates, warmup) needs --change-schedule and is logged. So a
 * resumed run is the run it continues, unless the user says otherwise in so many words.
 */
final class Resumed {
    private static final Logger LOG = LoggerFactory.getLogger(Resumed.class);

    private final Checkpoint.Contents checkpoint;
    private final ParseResult given;
    private final boolean changeSchedule;
    private final Path source;

    Resumed(Checkpoint.Contents checkpoint, ParseResult given, boolean changeSchedule, Path source) {
        this.checkpoint = checkpoint;
        this.given = given;
        this.changeSchedule = changeSchedule;
        this.source = source;
    }

    Checkpoint.Contents checkpoint() { return checkpoint; }

    private boolean wasGiven(String option) {
        return given != null && given.hasMatchedOption(option);
    }

    /** An identity option: the checkpoint's value; a different given value is refused. */
    String identity(String option, String key, String value) { return identity(option, key, value, null); }

    /**
     * An identity option that checkpoints without it were all made with one value, {@code absent} (an option that
     * did not exist yet, e.g. the reference recipe or all labels, or one recorded only when given); a null absent
     * takes the option as given.
     */
    String identity(String option, String key, String value, String absent) {
        String saved = checkpoint.options().getOrDefault(key, absent);
        if (saved == null) return value;   // older checkpoints: the option as given
        return keep(option, saved, value);
    }

    private String keep(String option, String saved, String value) {
        if (wasGiven(option) && !same(saved, value)) {
            throw new IllegalArgumentException(option + " " + value + " conflicts with the checkpoint's " + saved + " (" + source
                    + "): a resumed run keeps it; start a new run in another --out to change it");
        }
        return saved;
    }

    /** A schedule option: the checkpoint's value unless given and allowed by --change-schedule. */
    String schedule(String option, String key, String value) {
        String saved = checkpoint.options().get(key);
        if (saved == null || !wasGiven(option) || same(saved, value)) return saved == null ? value : saved;
        if (!changeSchedule) {
            throw new IllegalArgumentException(option + " " + value + " differs from the checkpoint's " + saved + " (" + source
                    + "): add --change-schedule to change the schedule of a resumed run");
        }
        LOG.info("schedule change on resume: {} {} -> {}", option, saved, value);
        return value;
    }

    int identity(String option, String key, int value) { return Integer.parseInt(identity(option, key, Integer.toString(value))); }
    long identity(String option, String key, long value) { return Long.parseLong(identity(option, key, Long.toString(value))); }
    double identity(String option, String key, double value) { return Double.parseDouble(identity(option, key, Double.toString(value))); }
    int schedule(String option, String key, int value) { return Integer.parseInt(schedule(option, key, Integer.toString(value))); }
    double schedule(String option, String key, double value) { return Double.parseDouble(schedule(option, key, Double.toString(value))); }

    /** A fact of the checkpoint (its model config, its data) that a given option must not contradict. */
    void requireSame(String option, String what, Object saved, Object now) {
        if (wasGiven(option) && !saved.equals(now)) {
            throw new IllegalArgumentException(option + " gives " + what + " " + now + " but the checkpoint " + source + " has " + saved
                    + ": a resumed run keeps it; start a new run in another --out to change it");
        }
    }

    private static boolean same(String a, String b) {
        if (a.equals(b)) return true;
        try {
            return Double.parseDouble(a) == Double.parseDouble(b);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
