package org.mae4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.mae4j.examples.EmbeddedRun;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * {@code ./mae pretrain} on a Spark cluster: {@code spark-submit --class org.mae4j.spark.SparkPretrain JAR
 * --spark-workers N [--spark-timeout S] <pretrain options>} runs the command in N barrier tasks, task i as rank i.
 * Every executor must see --data (and --resume) at the same path; rank 0's executor writes --out.
 */
public final class SparkPretrain {
    private SparkPretrain() {}

    public static void main(String[] args) {
        int workers = 0, timeout = 300, i = 0;
        for (; i + 1 < args.length && args[i].startsWith("--spark-"); i += 2) {
            switch (args[i]) {
                case "--spark-workers" -> workers = Integer.parseInt(args[i + 1]);
                case "--spark-timeout" -> timeout = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + ": expected --spark-workers N [--spark-timeout S] then the pretrain options");
            }
        }
        if (workers < 1) throw new IllegalArgumentException("--spark-workers N (N >= 1) must come first");
        SparkContext sc = new SparkContext(new SparkConf().setAppName("mae4j pretrain"));
        List<Integer> codes;
        try {
            codes = run(sc, workers, Duration.ofSeconds(timeout), Arrays.copyOfRange(args, i, args.length));
        } finally {
            sc.stop();
        }
        System.out.println("mae4j: exit codes by rank " + codes);
        System.exit(codes.stream().filter(c -> c != 0).findFirst().orElse(0));
    }

    /** Runs {@code pretrain args} in {@code workers} barrier tasks; their ./mae exit codes by rank. */
    public static List<Integer> run(SparkContext sc, int workers, Duration timeout, String... args) {
        String[] copy = args.clone();
        return SparkBarrier.run(sc, workers, timeout, c -> EmbeddedRun.pretrain(c, copy));
    }
}
