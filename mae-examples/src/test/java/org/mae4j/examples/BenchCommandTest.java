package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae bench runs end to end and writes the JSON the docs rely on (no timing is asserted). */
class BenchCommandTest {

    @Test
    void writesJsonWithTheFiguresOfEveryPath(@TempDir Path tmp) throws Exception {
        for (String gemm : new String[] {"blas", "java"}) {
            Path json = tmp.resolve(gemm + ".json");
            CommandLine cl = Mae.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            int exit = cl.execute("bench", "--config", "micro", "--batch", "4", "--steps", "2", "--warmup", "1", "--no-sgemm",
                    "--gemm", gemm, "--json", json.toString());
            assertEquals(0, exit, err.toString());
            JsonNode r = new ObjectMapper().readTree(json.toFile());
            assertTrue(r.get("train_images_per_s").asDouble() > 0, r.toString());
            JsonNode c = r.get("configs").get(0);
            assertEquals("micro", c.get("config").asText());
            assertEquals(4, c.get("batch").asInt());
            assertTrue(c.get("encoder_images_per_s").asDouble() > 0, c.toString());
            // At most 0: late frees of other tests' garbage can make the count negative in a shared test JVM;
            // the exact zero is SteadyStateAllocationTest's to check.
            assertTrue(c.get("allocations_per_step").asDouble() <= 0.0, "a warm step must not allocate: " + c);
            assertTrue(c.get("train_peak_rss_mib").asDouble() > 0, c.toString());
        }
    }

    @Test
    void badOptionsAreNamed() {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "--config", "micro", "--gemm", "fast"));
        assertTrue(err.toString().contains("--gemm") && err.toString().contains("fast"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("bench", "--batch", "8"));
        assertTrue(err.toString().contains("--config"), err.toString());
    }
}
