package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/** Reading back the numbers of a metrics line. */
final class Json {
    private Json() {}
    private static final ObjectMapper M = new ObjectMapper();

    /** The numeric top-level fields of one JSON object line; a malformed line gives an empty map. */
    static Map<String, Double> flatNumbers(String line) {
        Map<String, Double> r = new HashMap<>();
        try {
            JsonNode n = M.readTree(line);
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isNumber()) r.put(e.getKey(), e.getValue().asDouble());
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Map.of();   // a line cut by a crash: skip it, the rest of the curve still draws
        }
        return r;
    }
}
