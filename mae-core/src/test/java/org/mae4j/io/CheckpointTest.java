package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.engine.ParamStore;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** The checkpoint format: everything round-trips, damage is named, version 1 still loads. */
class CheckpointTest {

    /** A store of a few tensors (views at non-zero offsets) filled from a seeded generator. */
    static ParamStore store(long seed) {
        ParamStore s = ParamStore.builder().add("a.weight", true, 3, 4).add("a.bias", true, 3).add("pos", false, 1, 5, 2).add("head.weight", true, 2, 3).build(DataType.FLOAT);
        Random r = new Random(seed);
        float[] v = new float[(int) s.numScalars()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        s.flatParams().assign(Nd4j.createFromArray(v));
        return s;
    }

    static Checkpoint.Contents contents(ParamStore s) {
        INDArray m1 = Nd4j.createFromArray(new float[(int) s.numScalars()]).addi(0.5f), m2 = s.flatParams().mul(2);
        Map<String, INDArray> buffers = new LinkedHashMap<>();
        buffers.put("exp_avg", m1);
        buffers.put("exp_avg_sq", m2);
        return new Checkpoint.Contents("finetune", MaeConfig.micro(), Map.of("classes", "2", "pooling", "mean"),
                new Normalization(new float[] {0.1f, 0.2f, 0.3f}, new float[] {0.4f, 0.5f, 0.6f}), s,
                new Checkpoint.State(3, 17, 34, 544, 42),
                new Checkpoint.OptimizerState("AdamW", Map.of("beta1", 0.9, "beta2", 0.999), 17, buffers),
                Map.of("blr", "0.001", "epochs", "10"), Map.of("git_commit", "abc"), Checkpoint.FORMAT_VERSION);
    }

    @Test
    void everythingRoundTrips(@TempDir Path dir) throws Exception {
        ParamStore s = store(1);
        Checkpoint.Contents c = contents(s);
        Path f = dir.resolve("c.zip");
        Checkpoint.save(f, c);
        Checkpoint.Contents r = Checkpoint.load(f);
        assertEquals("finetune", r.kind());
        assertEquals(MaeConfig.micro(), r.config());
        assertEquals(c.model(), r.model());
        assertEquals(c.normalization(), r.normalization());
        assertEquals(c.state(), r.state());
        assertEquals(c.options(), r.options());
        assertEquals("abc", r.provenance().get("git_commit"));
        assertEquals("AdamW", r.optimizer().name());
        assertEquals(17, r.optimizer().steps());
        assertEquals(c.optimizer().hyper(), r.optimizer().hyper());
        assertArrayEquals(s.flatParams().toFloatVector(), r.params().flatParams().toFloatVector());
        assertFalse(r.params().entry("pos").trainable());
        assertArrayEquals(new long[] {1, 5, 2}, r.params().entry("pos").shape());
        for (String b : List.of("exp_avg", "exp_avg_sq")) {
            assertArrayEquals(c.optimizer().buffers().get(b).toFloatVector(), r.optimizer().buffers().get(b).toFloatVector(), b);
        }
        // numpy reads it as an npz: the entries are plain .npy files
        try (ZipFile z = new ZipFile(f.toFile())) {
            assertArrayEquals(s.param("a.bias").toFloatVector(), Npy.fromBytes(z.getInputStream(z.getEntry("params/a.bias.npy")).readAllBytes(), "x").toFloatVector());
        }
    }

    @Test
    void aFlippedByteInAnyTensorIsRefusedWithTheTensorsName(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.zip");
        Checkpoint.save(f, contents(store(2)));
        byte[] good = Files.readAllBytes(f);
        // the offsets of each entry's data in the file, from the zip's local headers (stored data: no compression, NO_COMPRESSION deflate blocks)
        for (String entry : List.of("params/a.weight.npy", "params/pos.npy", "params/head.weight.npy", "optimizer/exp_avg_sq.npy")) {
            byte[] bad = good.clone();
            int at = dataOffset(good, entry) + 128 + 5;   // past the 128-byte .npy header: a float of the tensor
            bad[at] ^= 0x10;
            Path g = dir.resolve("bad.zip");
            Files.write(g, bad);
            Exception e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(g), entry);
            assertTrue(e.getMessage().contains(entry) && e.getMessage().contains(g.toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    /** Where an entry's bytes begin in the zip: after its local header (found by name); entries are written stored-deflate. */
    private static int dataOffset(byte[] zip, String entry) {
        byte[] name = entry.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + 30 + name.length < zip.length; i++) {
            if (zip[i] != 0x50 || zip[i + 1] != 0x4b || zip[i + 2] != 3 || zip[i + 3] != 4) continue;
            int n = (zip[i + 26] & 0xff) | (zip[i + 27] & 0xff) << 8, extra = (zip[i + 28] & 0xff) | (zip[i + 29] & 0xff) << 8;
            if (n != name.length) continue;
            for (int j = 0; j < n; j++) if (zip[i + 30 + j] != name[j]) continue outer;
            return i + 30 + n + extra + 5;   // + the 5-byte header of the first stored deflate block
        }
        throw new AssertionError(entry + " not found");
    }

    @Test
    void aManifestWithoutAFieldNamesTheField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.zip");
        Checkpoint.save(f, contents(store(3)));
        for (String[] edit : List.of(new String[] {"\"steps\" : 17,", ""}, new String[] {"\"micro_step\" : 34,", ""},
                new String[] {"\"format_version\" : 2", "\"format_version\" : \"two\""}, new String[] {"\"crc32c\" : \"", "\"crc32c\" : \"zz"},
                new String[] {"\"shape\" : [ 3, 4 ]", "\"shape\" : [ 3, -4 ]"}, new String[] {"\"shape\" : [ 3, 4 ]", "\"shape\" : [ 4611686018427387904, 4 ]"})) {
            Path g = dir.resolve("edited.zip");
            rewriteManifest(f, g, edit[0], edit[1]);
            Exception e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(g), edit[0]);
            assertTrue(e.getMessage().startsWith("checkpoint " + g), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    private static void rewriteManifest(Path from, Path to, String find, String replace) throws Exception {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(from)); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(to))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                byte[] b = in.readAllBytes();
                if (e.getName().equals("manifest.json")) {
                    String s = new String(b, StandardCharsets.UTF_8);
                    assertTrue(s.contains(find), "manifest lacks " + find + ":\n" + s);
                    b = s.replace(find, replace).getBytes(StandardCharsets.UTF_8);
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
    }

    @Test
    void truncatedMissingAndForeignFilesGetOneLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.zip");
        Checkpoint.save(f, contents(store(4)));
        byte[] good = Files.readAllBytes(f);
        Path t = dir.resolve("t.zip");
        for (int len : new int[] {0, 10, good.length / 2, good.length - 10}) {
            Files.write(t, java.util.Arrays.copyOf(good, len));
            Exception e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(t));
            assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
        }
        Exception e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(dir.resolve("none.zip")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    private static float[] flat(INDArray a) { return a.dup('c').reshape(a.length()).toFloatVector(); }

    @Test
    void aVersion1ManifestWithoutBeta1OrStateIsNamed(@TempDir Path dir) throws Exception {
        Path v1 = Path.of(getClass().getResource("checkpoint-v1-micro.zip").toURI());
        String manifest;
        try (ZipFile z = new ZipFile(v1.toFile())) {
            manifest = new String(z.getInputStream(z.getEntry("manifest.json")).readAllBytes(), StandardCharsets.UTF_8);
        }
        String beta1 = manifest.substring(manifest.indexOf("\"beta1\""), manifest.indexOf(",", manifest.indexOf("\"beta1\"")) + 1);
        String state = manifest.substring(manifest.indexOf("\"state\""), manifest.indexOf("}", manifest.indexOf("\"state\"")) + 2);
        for (String[] edit : List.of(new String[] {beta1, "'beta1'"}, new String[] {state, "'state'"})) {
            Path g = dir.resolve("edited.zip");
            rewriteManifest(v1, g, edit[0], "");
            Exception e = assertThrows(java.io.IOException.class, () -> Checkpoint.load(g));
            assertTrue(e.getMessage().contains(edit[1].replace('\'', ' ').trim()) && e.getMessage().contains("missing"), e.getMessage());
        }
    }

    @Test
    void formatVersion1StillLoads() throws Exception {
        Path v1 = Path.of(getClass().getResource("checkpoint-v1-micro.zip").toURI());
        Checkpoint.Contents c = Checkpoint.load(v1);
        assertEquals(1, c.formatVersion());
        assertEquals("pretrain", c.kind());
        assertEquals(MaeConfig.micro(), c.config());
        assertEquals(new Checkpoint.State(0, 1, 1, 0, 11), c.state());
        assertEquals(Normalization.imagenet(), c.normalization(), "parsed from v1's provenance string");
        assertEquals(1, c.optimizer().steps());
        assertEquals(0.95, c.optimizer().hyper().get("beta2"));
        try (ZipFile z = new ZipFile(v1.toFile())) {   // every tensor as the file holds it
            for (ParamStore.Entry e : c.params().entries()) {
                try (InputStream is = z.getInputStream(z.getEntry("params/" + e.name() + ".npy"))) {
                    assertArrayEquals(flat(Npy.fromBytes(is.readAllBytes(), e.name())), flat(c.params().param(e.name())), e.name());
                }
            }
            try (InputStream is = z.getInputStream(z.getEntry("optimizer/exp_avg_sq.npy"))) {
                assertArrayEquals(Npy.fromBytes(is.readAllBytes(), "v").toFloatVector(), c.optimizer().buffers().get("exp_avg_sq").toFloatVector());
            }
        }
    }
}
