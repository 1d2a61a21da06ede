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
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * A fine-tuned classifier (global pooling) exports what it holds: fc_norm and head as trained and no norm, the
     * reference's finetune keys; its embeddings from the export equal the checkpoint's. Before, export wrote the
     * encoder view (norm = 1, 0 as if trained; fc_norm and head dropped). HuggingFace ViTMAE names are refused.
     */
    @Test
    void aFineTunedClassifierExportsItsFcNormAndHead(@TempDir Path tmp) throws Exception {
        MaeConfig cfg = MaeConfig.micro();
        org.mae4j.finetune.VitClassifier clf = org.mae4j.finetune.VitClassifier.fromEncoder(cfg, randomStore(cfg, 3),
                new org.mae4j.finetune.VitClassifier.Spec(3, org.mae4j.finetune.VitClassifier.Pooling.GLOBAL_AVERAGE, 0),
                MaskedAutoencoder.defaultKernels(DataType.FLOAT), new Random(4));
        ParamStore store = clf.params();
        Random r = new Random(5);
        float[] v = new float[(int) store.numScalars()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        store.flatParams().assign(Nd4j.createFromArray(v));   // fc_norm far from 1 and 0: trained
        org.mae4j.config.Normalization norm = new org.mae4j.config.Normalization(new float[] {0.3f, 0.4f, 0.5f}, new float[] {0.2f, 0.2f, 0.2f});
        Path ckpt = tmp.resolve("ft.zip");
        org.mae4j.io.Checkpoint.save(ckpt, org.mae4j.io.Checkpoint.Contents.weights("finetune", cfg,
                Map.of("head", "linear", "classes", "3", "pooling", "global", "drop_path", "0.0"), norm, store, Map.of()));

        Path official = tmp.resolve("ft.safetensors");
        String[] res = run("export", "--weights", ckpt.toString(), "--out", official.toString());
        assertEquals("0", res[0], res[1]);
        Map<String, INDArray> got = Safetensors.read(official).tensors();
        assertEquals(store.entries().stream().map(ParamStore.Entry::name).collect(java.util.stream.Collectors.toSet()), got.keySet());
        assertTrue(got.containsKey("fc_norm.weight") && got.containsKey("head.bias") && !got.containsKey("norm.weight"), got.keySet().toString());
        for (ParamStore.Entry e : store.entries()) org.junit.jupiter.api.Assertions.assertArrayEquals(store.param(e.name()).shape(), got.get(e.name()).shape(), e.name());
        for (ParamStore.Entry e : store.entries()) assertBitIdentical(e.name(), store.param(e.name()).reshape(-1), got.get(e.name()).reshape(-1));
        org.mae4j.embed.Embedder fromExport = org.mae4j.embed.Embedder.load(official, cfg, norm).withPooling(org.mae4j.embed.Embedder.Pooling.MEAN);
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, cfg.channels(), cfg.imageSize(), cfg.imageSize());
        float[][] a = org.mae4j.embed.Embedder.load(ckpt).withPooling(org.mae4j.embed.Embedder.Pooling.MEAN).embed(images), b = fromExport.embed(images);
        for (int i = 0; i < a.length; i++) assertTrue(java.util.Arrays.equals(a[i], b[i]), "embedding " + i);

        res = run("export", "--weights", ckpt.toString(), "--names", "huggingface", "--out", tmp.resolve("hf").toString());
        assertEquals("2", res[0], res[1]);
        assertTrue(res[1].contains("is a fine-tuned classifier") && res[1].contains("fc_norm and head") && res[1].trim().lines().count() == 1, res[1]);
        assertFalse(java.nio.file.Files.exists(tmp.resolve("hf")));
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
