package org.mae4j.examples;

import org.mae4j.train.Collective;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./mae pretrain} as one rank of a data-parallel run whose processes, or threads, another launcher
 * started and joined (mae-spark's barrier tasks): the command runs on this thread with the given collective
 * instead of --workers / --tracker. The caller keeps the collective (and closes it).
 */
public final class EmbeddedRun {
    private EmbeddedRun() {}

    /** Runs {@code pretrain args} as the collective's rank; returns the exit code ./mae would give. */
    public static int pretrain(Collective collective, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("pretrain");
        cmd.addAll(List.of(args));
        DistributedOptions.GIVEN.set(new Collective() {   // the command closes what it connects to; this one is the caller's
            @Override public int rank() { return collective.rank(); }
            @Override public int worldSize() { return collective.worldSize(); }
            @Override public void allReduceSum(float[] buf, int n) { collective.allReduceSum(buf, n); }
            @Override public void close() {}
        });
        try {
            return Mae.commandLine().execute(cmd.toArray(String[]::new));
        } finally {
            DistributedOptions.GIVEN.remove();
        }
    }
}
