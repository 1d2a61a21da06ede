package org.mae4j.spark;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkContext;
import org.mae4j.distributed.Tracker;
import org.mae4j.distributed.XgbCollective;
import org.mae4j.train.Collective;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Data-parallel work as one Spark barrier-mode stage: {@code workers} tasks started together (Spark starts all
 * or none, and fails the whole stage if one fails: the semantics the collective needs), task i being rank i,
 * joined through a tracker on the driver. The task body gets its {@link Collective}, e.g. to give it to
 * {@code Trainer.distributed}.
 */
public final class SparkBarrier {
    private SparkBarrier() {}

    /** One rank's work; it and its result travel between driver and executors, so both must be serializable. */
    @FunctionalInterface
    public interface RankTask<R extends Serializable> extends Serializable {
        R run(Collective collective) throws Exception;
    }

    /**
     * Runs task on {@code workers} barrier tasks and returns their results by rank.
     *
     * @throws IllegalArgumentException if workers < 1
     */
    public static <R extends Serializable> List<R> run(SparkContext sc, int workers, Duration timeout, RankTask<R> task) {
        if (workers < 1) throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        String host = sc.getConf().get("spark.driver.host", "127.0.0.1");
        try (Tracker tracker = new Tracker(host, 0, workers, (int) Math.max(1, timeout.toSeconds()))) {
            List<Integer> ranks = IntStream.range(0, workers).boxed().toList();
            ClassTag<Integer> intTag = ClassTag$.MODULE$.apply(Integer.class);
            ClassTag<Object[]> resultTag = ClassTag$.MODULE$.apply(Object[].class);
            Object[] collected = (Object[]) sc.parallelize(JavaConverters.asScalaBuffer(ranks).toSeq(), workers, intTag)
                    .barrier()
                    .mapPartitions(new Rank<>(tracker.host(), tracker.port(), workers, timeout, task), false, resultTag)
                    .collect();
            List<Object[]> byRank = new ArrayList<>();
            for (Object o : collected) byRank.add((Object[]) o);
            byRank.sort(Comparator.comparingInt(p -> (Integer) p[0]));
            List<R> out = new ArrayList<>();
            for (Object[] p : byRank) {
                @SuppressWarnings("unchecked") R r = (R) p[1];
                out.add(r);
            }
            return out;
        }
    }

    /** What runs in each barrier task: its partition is its rank. */
    private static final class Rank<R extends Serializable> extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Object[]>>
            implements Serializable {
        private final String host;
        private final int port, workers;
        private final Duration timeout;
        private final RankTask<R> task;

        Rank(String host, int port, int workers, Duration timeout, RankTask<R> task) {
            this.host = host;
            this.port = port;
            this.workers = workers;
            this.timeout = timeout;
            this.task = task;
        }

        @Override
        public scala.collection.Iterator<Object[]> apply(scala.collection.Iterator<Integer> ignored) {
            int rank = BarrierTaskContext.get().partitionId();
            R result;
            try (XgbCollective c = XgbCollective.connect(host, port, rank, workers, timeout)) {
                result = task.run(c);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("rank " + rank + " failed: " + e, e);
            }
            return JavaConverters.asScalaIterator(Collections.singletonList(new Object[] {rank, result}).iterator());
        }
    }
}
