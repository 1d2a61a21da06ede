package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyWeightsTest {

    private static ParamStore micro(DataType dt) {
        return MaskedAutoencoder.layout(MaeConfig.micro()).build(dt);
    }

    /** Every tensor, frozen ones included, set to fresh random values through store.set. */
    private static ParamStore randomMicro(long seed) {
        Nd4j.getRandom().setSeed(seed);
        ParamStore s = micro(DataType.FLOAT);
        for (ParamStore.Entry e : s.entries()) s.set(e.name(), Nd4j.randn(DataType.FLOAT, e.shape()));
        return s;
    }

    private static Set<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static void assertMentions(String m, String... parts) {
        for (String p : parts) assertTrue(m.contains(p), "message should mention '" + p + "': " + m);
    }

    @Test
    void saveLoadRoundTrip(@TempDir Path tmp) throws IOException {
        ParamStore a = randomMicro(1);
        Path dir = tmp.resolve("weights/nested");
        NpyWeights.save(a, dir);                                   // creates the directory
        Set<String> want = new TreeSet<>();
        for (ParamStore.Entry e : a.entries()) want.add(e.name() + ".npy");
        assertEquals(want, files(dir), "one <key>.npy per tensor");
        // each file holds the tensor under its key, with its shape
        INDArray qkv = Npy.read(dir.resolve("blocks.1.attn.qkv.weight.npy"));
        assertArrayEquals(new long[]{96, 32}, qkv.shape());
        assertEquals(a.param("blocks.1.attn.qkv.weight"), qkv);

        ParamStore b = micro(DataType.FLOAT);
        NpyWeights.load(b, dir);
        assertEquals(a.flatParams(), b.flatParams());

        Map<String, INDArray> read = NpyWeights.read(dir);
        assertEquals(a.entries().size(), read.size());
        for (ParamStore.Entry e : a.entries()) assertEquals(a.param(e.name()), read.get(e.name()), e.name());
    }

    @Test
    void doubleStoreRoundTripsAndLoadsIntoFloat(@TempDir Path dir) throws IOException {
        Nd4j.getRandom().setSeed(5);
        ParamStore d = micro(DataType.DOUBLE);
        d.flatParams().assign(Nd4j.randn(DataType.DOUBLE, d.numScalars()));
        NpyWeights.save(d, dir);
        assertEquals(DataType.DOUBLE, Npy.read(dir.resolve("cls_token.npy")).dataType());
        ParamStore d2 = micro(DataType.DOUBLE);
        NpyWeights.load(d2, dir);
        assertEquals(d.flatParams(), d2.flatParams());
        ParamStore f = micro(DataType.FLOAT);
        NpyWeights.load(f, dir);
        assertEquals(d.flatParams().castTo(DataType.FLOAT), f.flatParams());
    }

    @Test
    void frozenTablesMayBeAbsentAndOtherFilesAreIgnored(@TempDir Path dir) throws IOException {
        ParamStore a = randomMicro(2);
        NpyWeights.save(a, dir);
        Files.delete(dir.resolve("pos_embed.npy"));
        Files.delete(dir.resolve("decoder_pos_embed.npy"));
        Files.writeString(dir.resolve("README.txt"), "not a tensor");
        ParamStore b = micro(DataType.FLOAT);
        b.param("pos_embed").assign(0.25);
        NpyWeights.load(b, dir);
        for (ParamStore.Entry e : a.entries()) {
            if (e.trainable()) assertEquals(a.param(e.name()), b.param(e.name()), e.name());
        }
        assertEquals(0.25, b.param("pos_embed").minNumber().doubleValue(), 0.0, "an absent frozen table keeps its values");
        assertEquals(0.25, b.param("pos_embed").maxNumber().doubleValue(), 0.0);
    }

    private static IOException loadFails(Path dir) {
        ParamStore b = micro(DataType.FLOAT);
        b.flatParams().assign(3);
        IOException ex = assertThrows(IOException.class, () -> NpyWeights.load(b, dir));
        assertEquals(3.0, b.flatParams().minNumber().doubleValue(), 0.0, "a failed load changes nothing");
        assertEquals(3.0, b.flatParams().maxNumber().doubleValue(), 0.0, "a failed load changes nothing");
        return ex;
    }

    @Test
    void missingTrainableFileNamesTheKey(@TempDir Path dir) throws IOException {
        NpyWeights.save(randomMicro(3), dir);
        Files.delete(dir.resolve("blocks.0.attn.qkv.weight.npy"));
        assertMentions(loadFails(dir).getMessage(), "blocks.0.attn.qkv.weight", "missing");
    }

    @Test
    void unexpectedFileNamesTheKey(@TempDir Path dir) throws IOException {
        NpyWeights.save(randomMicro(4), dir);
        Npy.write(dir.resolve("blocks.2.attn.qkv.weight.npy"), Nd4j.rand(DataType.FLOAT, 96, 32));
        assertMentions(loadFails(dir).getMessage(), "blocks.2.attn.qkv.weight", "unexpected");
    }

    @Test
    void wrongShapeNamesTheKeyAndBothShapes(@TempDir Path dir) throws IOException {
        NpyWeights.save(randomMicro(5), dir);
        Npy.write(dir.resolve("decoder_pred.weight.npy"), Nd4j.rand(DataType.FLOAT, 16, 48));   // transposed
        assertMentions(loadFails(dir).getMessage(), "decoder_pred.weight", "[48, 16]", "[16, 48]");
    }

    @Test
    void corruptFileNamesTheFile(@TempDir Path dir) throws IOException {
        NpyWeights.save(randomMicro(6), dir);
        Path f = dir.resolve("norm.bias.npy");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 4));
        assertMentions(loadFails(dir).getMessage(), "norm.bias.npy");
    }

    @Test
    void missingOrEmptyDirectory(@TempDir Path dir) throws IOException {
        Path none = dir.resolve("nope");
        assertMentions(loadFails(none).getMessage(), "nope");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertMentions(loadFails(empty).getMessage(), "empty");
    }
}
