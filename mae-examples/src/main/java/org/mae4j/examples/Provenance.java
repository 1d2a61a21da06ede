package org.mae4j.examples;

import org.mae4j.engine.Kernels;
import org.mae4j.io.Checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/** The facts every checkpoint and metrics file records about where a run came from. */
final class Provenance {
    private Provenance() {}

    static Map<String, String> of(String command, Kernels kernels) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("command", command);
        p.put("mae4j_version", Checkpoint.LIBRARY_VERSION);
        String commit = System.getProperty("mae4j.git.commit", System.getenv("MAE4J_GIT_COMMIT"));
        if (commit != null && !commit.isBlank()) p.put("git_commit", commit.trim());
        p.put("kernels", kernels.toString());
        p.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        p.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        return p;
    }

    /** What metrics.jsonl's "start" row records. */
    static Map<String, String> startRow(Map<String, String> provenance) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : new String[] {"command", "mae4j_version", "git_commit", "kernels", "skipped_images", "labels", "label_seed", "labelled_images", "labels_per_class"}) if (provenance.containsKey(k)) m.put(k, provenance.get(k));
        return m;
    }
}
