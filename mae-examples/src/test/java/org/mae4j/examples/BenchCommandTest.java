package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.GemmChoice;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae bench runs end to end and writes the JSON the docs rely on (no timing is asserted). */
class BenchCommandTest {

    @AfterEach
    void clearGemmOverride() { GemmChoice.force(null); }

    @Test
    void writesJsonWithTheFiguresOfEveryPath(@TempDir Path tmp) throws Exception {
        for (String gemm : new String[] {"openblas", "java", "auto"}) {
            Path json = tmp.resolve(gemm + ".json");
            CommandLine cl = Mae.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            List<String> args = new ArrayList<>(List.of("bench", "--config", "micro", "--batch", "4", "--steps", "2", "--warmup", "1", "--no-sgemm",
                    "--json", json.toString()));
            // auto as the default: the --gemm java of the run before must not stick
            if (!gemm.equals("auto")) args.addAll(List.of("--gemm", gemm));
            int exit = cl.execute(args.toArray(String[]::new));
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
            assertPathOfEveryProduct(c.get("gemm"), gemm);
        }
    }

    /**
     * Every product of the run is named with a path; among them, whatever else the model does, the patch
     * embedding's forward over all N*L patches (cols [N*L, p] x W^T, W [width, p]) and its weight gradient
     * over the N*kept patches the encoder sees (dE^T cols), whose shapes follow from the micro preset and B=4 alone.
     */
    private static void assertPathOfEveryProduct(JsonNode gemm, String requested) {
        assertNotNull(gemm, "no gemm record");
        JsonNode products = gemm.get("products");
        assertTrue(products != null && products.size() >= 3, String.valueOf(gemm));
        MaeConfig cfg = MaeConfig.preset("micro");
        int rows = 4 * cfg.numPatches(), d = cfg.encoder().width(), p = cfg.patchDim();
        String embedForward = "M" + rows + " N" + d + " K" + p + " NT", embedWeightGrad = "M" + d + " N" + p + " K" + 4 * cfg.numKept() + " TN";
        assertTrue(products.has(embedForward) && products.has(embedWeightGrad), "patch embedding products missing: " + products);
        String want = requested.equals("auto") ? null : requested;
        products.fields().forEachRemaining(e -> {
            String path = e.getValue().asText();
            assertTrue(path.equals("java") || path.equals("openblas"), e.getKey() + ": " + path);
            if (want != null) assertEquals(want, path, "--gemm " + requested + " but " + e.getKey() + " ran on " + path);
        });
        String summary = gemm.get("summary").asText();
        assertTrue(summary.contains(products.size() + " products"), summary + " vs " + products.size() + " products");
        if (want != null) assertTrue(summary.startsWith(want + " (--gemm=" + requested), summary);
        else assertFalse(summary.contains("--gemm"), "the last run's --gemm stuck: " + summary);
    }

    /** --profile on the fine-tuning step: the per-kernel breakdown is printed and in the JSON, products among it. */
    @Test
    void finetuneProfileBreaksTheStepDown(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("ft.json");
        CommandLine cl = Mae.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true));
        int exit;
        try {
            exit = cl.execute("bench", "--config", "micro", "--finetune", "--profile", "--batch", "4", "--steps", "2", "--warmup", "1",
                    "--json", json.toString());
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, exit, err.toString());
        JsonNode profile = new ObjectMapper().readTree(json.toFile()).get("profile_ms_per_step");
        assertNotNull(profile, "no profile in the JSON");
        assertTrue(profile.has("GEMM") && profile.get("GEMM").asDouble() > 0, "no time in the products: " + profile);
        assertTrue(printed.toString().contains("ms/step"), "no breakdown printed: " + printed);
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
        err.getBuffer().setLength(0);
        assertEquals(2, cl.execute("bench", "--config", "micro", "--embed", "--profile"));
        assertTrue(err.toString().contains("--profile") && err.toString().contains("--embed"), err.toString());
    }
}
