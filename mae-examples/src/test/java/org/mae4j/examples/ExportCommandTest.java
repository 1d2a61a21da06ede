package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.VitSpec;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.HfConfig;
import org.mae4j.io.NpyWeights;
import org.mae4j.io.Safetensors;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PretrainedWeights;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ./mae export with both namings on models whose q/k/v split failed before (micro; a 32 px grey model with 8 heads,
 * as in issue 16): the exported files must load back (PretrainedWeights.load) to the source parameters bit for bit.
 */
class ExportCommandTest {

    private static String[] run(String... args) {
        CommandLine cl = Mae.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new String[] {String.valueOf(exit), err.toString()};
    }

    private static ParamStore randomStore(MaeConfig cfg, long seed) {
        ParamStore store = MaskedAutoencoder.layout(cfg).build(DataType.FLOAT);
        Random r = new Random(seed);
        float[] v = new float[(int) store.numScalars()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        store.flatParams().assign(Nd4j.createFromArray(v));
        return store;
    }

    @Test
    void microFromNpyFolderExportsBothNamings(@TempDir Path tmp) throws Exception {
        MaeConfig cfg = MaeConfig.micro();
        ParamStore src = randomStore(cfg, 1);
        Path npy = tmp.resolve("npy");
        NpyWeights.save(src, npy);
        exportBothAndCompare(tmp, cfg, src, npy.toString(), "--preset", "micro");
    }

    @Test
    void oddConfigFromSafetensorsWithConfigExportsBothNamings(@TempDir Path tmp) throws Exception {
        MaeConfig cfg = new MaeConfig(32, 8, 1, new VitSpec(40, 3, 8, 2.75), new VitSpec(28, 2, 7, 2.5), 0.6, false, 1e-12);
        ParamStore src = randomStore(cfg, 2);
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry e : src.entries()) t.put(e.name(), src.param(e.name()));
        Path dir = tmp.resolve("src");
        java.nio.file.Files.createDirectories(dir);
        Safetensors.write(dir.resolve("w.safetensors"), t, Map.of());
        HfConfig.write(cfg, dir.resolve("config.json"));   // read beside the .safetensors: the config travels
        exportBothAndCompare(tmp, cfg, src, dir.resolve("w.safetensors").toString());
    }

    private static void exportBothAndCompare(Path tmp, MaeConfig cfg, ParamStore src, String weights, String... extra) throws Exception {
        Path official = tmp.resolve("out-official.safetensors"), hf = tmp.resolve("out-hf");
        String[] r = run(concat(new String[] {"export", "--weights", weights, "--out", official.toString()}, extra));
        assertEquals("0", r[0], "official export: " + r[1]);
        r = run(concat(new String[] {"export", "--weights", weights, "--names", "huggingface", "--out", hf.toString()}, extra));
        assertEquals("0", r[0], "huggingface export: " + r[1]);
        // An official-names file carries no config; the HF folder's config.json must give the model back by itself.
        assertBitIdentical("official", src.flatParams(), PretrainedWeights.load(official, cfg).params().flatParams());
        assertBitIdentical("huggingface", src.flatParams(), PretrainedWeights.load(hf, null).params().flatParams());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static void assertBitIdentical(String what, INDArray expected, INDArray actual) {
        float[] e = expected.toFloatVector(), g = actual.toFloatVector();
        assertEquals(e.length, g.length, what + ": parameter count");
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToIntBits(e[i]) != Float.floatToIntBits(g[i])) {
                fail(what + ": flat parameter " + i + " is " + g[i] + ", expected " + e[i]);
            }
        }
        assertTrue(e.length > 0);
    }
}
