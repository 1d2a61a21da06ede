package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.engine.ParamStore;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A weights directory with one mutated tensor file must load or fail with an IOException whose one-line
 * message names that tensor; and a missing, empty or odd directory is named with its problem.
 */
class NpyWeightsFuzzTest {

    @Test
    void oneMutatedTensorFile(@TempDir Path dir) throws IOException {
        ParamStore src = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        NpyWeights.save(src, dir);
        String key = "blocks.0.attn.qkv.weight";
        byte[] valid = Files.readAllBytes(dir.resolve(key + ".npy"));
        ParamStore into = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        // Files are written per case (milliseconds each), so fewer cases than the in-memory fuzzers.
        Mutations.Summary s = Mutations.fuzz(valid, 5, 500, Duration.ofSeconds(60),
                Mutations.viaFile(dir, key + ".npy", f -> NpyWeights.load(into, dir)), key, IOException.class);
        assertTrue(s.rejected() > s.cases() / 2, s.toString());
    }

    @Test
    void directoryProblemsAreNamed(@TempDir Path tmp) throws IOException {
        ParamStore store = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        IOException e = assertThrows(IOException.class, () -> NpyWeights.load(store, tmp.resolve("absent")));
        assertTrue(e.getMessage().contains("absent") && e.getMessage().contains("not found"), e.getMessage());
        Files.writeString(tmp.resolve("file"), "x");
        e = assertThrows(IOException.class, () -> NpyWeights.load(store, tmp.resolve("file")));
        assertTrue(e.getMessage().contains("file") && e.getMessage().contains("not a directory"), e.getMessage());
        Files.delete(tmp.resolve("file"));
        e = assertThrows(IOException.class, () -> NpyWeights.load(store, tmp));
        assertTrue(e.getMessage().contains(tmp.toString()) && e.getMessage().contains("no .npy files"), e.getMessage());
        NpyWeights.save(store, tmp.resolve("w"));
        Files.createDirectory(tmp.resolve("w").resolve("odd.npy"));
        e = assertThrows(IOException.class, () -> NpyWeights.load(store, tmp.resolve("w")));
        assertTrue(e.getMessage().contains("odd.npy") && e.getMessage().contains("directory") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
