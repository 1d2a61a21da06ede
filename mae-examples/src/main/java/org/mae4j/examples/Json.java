package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.mae4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** The commands' small JSON summaries (finetune.json, linprobe.json), written atomically. */
final class Json {
    private Json() {}
    private static final ObjectMapper M = new ObjectMapper();

    /** Writes values (sorted by key) as one pretty-printed JSON object. */
    static void write(Path file, Map<String, ?> values) throws IOException {
        byte[] bytes = M.writerWithDefaultPrettyPrinter().writeValueAsBytes(new TreeMap<>(values));
        AtomicFiles.write(file, os -> os.write(bytes));
    }
}
