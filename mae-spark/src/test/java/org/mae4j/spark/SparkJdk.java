package org.mae4j.spark;

import org.junit.jupiter.api.Assumptions;

/** Whether Spark 3.5 can start on the running JDK: the tests skip, saying why, where it cannot. */
final class SparkJdk {
    private SparkJdk() {}

    /**
     * Spark 3.5's Hadoop (UserGroupInformation) calls {@code Subject.getSubject}, which JDK 23 and later no longer
     * support (it throws UnsupportedOperationException: the Security Manager is gone, and JDK 24+ refuses
     * {@code -Djava.security.manager=allow}). Spark 4 with Hadoop 3.4 runs there; until mae-spark moves to it, its
     * tests run on JDK 17 to 22 (CI's JDK 17 pass) and skip on newer JDKs.
     */
    static void assumeSparkRuns() {
        Assumptions.assumeTrue(Runtime.version().feature() < 23,
                "Spark 3.5 cannot start on JDK " + Runtime.version().feature() + " (Hadoop calls Subject.getSubject, unsupported since JDK 23)");
    }
}
