package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutations of valid safetensors files must read or fail with an IOException whose one-line message names the
 * file; never anything else (ArithmeticException, ND4J's exceptions, ...), never a hang.
 */
class SafetensorsFuzzTest {
    private static final Duration BUDGET = Duration.ofSeconds(60);

    /** A file built by hand: 8-byte little-endian header length, header JSON, data. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    private static byte[] written(Path dir) throws IOException {
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("blocks.0.attn.qkv.weight", Nd4j.linspace(DataType.FLOAT, 0, 12, 1).reshape(6, 2));
        t.put("norm.bias", Nd4j.createFromArray(1f, 2f));
        t.put("scalar", Nd4j.scalar(3f));
        Path f = dir.resolve("valid.safetensors");
        Safetensors.write(f, t, Map.of("format", "pt"));
        return Files.readAllBytes(f);
    }

    private static final String MIXED = "{\"__metadata__\":{\"a\":\"b\"},\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
            + "\"l\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[6,14]},\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[14,14]},"
            + "\"d\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[14,22]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[22,24]}}";

    private static final Path NAME = Path.of("fuzz.safetensors");
    /** The reader on bytes in memory (the file route is the same code after FileChannel.open). */
    private static final Mutations.Reader IN_MEMORY = b -> Safetensors.read(Mutations.channel(b), NAME);

    @Test
    void blindMutationsOfWholeFiles(@TempDir Path dir) throws IOException {
        byte[][] valid = {written(dir), file(MIXED, new byte[24])};
        for (int f = 0; f < valid.length; f++) {
            Mutations.Summary s = Mutations.fuzz(valid[f], 500 + f, 3000, BUDGET, IN_MEMORY, "fuzz.safetensors", IOException.class);
            assertTrue(s.rejected() > s.cases() / 2, "most mutations should be rejected: " + s);
        }
    }

    /** A few hundred through real files, for the opening and channel code of the public read. */
    @Test
    void blindMutationsThroughFiles(@TempDir Path dir) throws IOException {
        Mutations.Summary s = Mutations.fuzz(written(dir), 600, 300, BUDGET,
                Mutations.viaFile(dir, "fuzz.safetensors", Safetensors::read), "fuzz.safetensors", IOException.class);
        assertTrue(s.rejected() > s.cases() / 2, "most mutations should be rejected: " + s);
    }

    /** Mutations of the JSON only, the length field repaired, so that they reach the header's validation. */
    @Test
    void headerMutationsWithRepairedLength(@TempDir Path dir) {
        byte[] json = MIXED.getBytes(StandardCharsets.UTF_8);
        byte[] valid = file(MIXED, new byte[24]);
        Mutations.Summary s = Mutations.fuzz(valid, i -> {
            Mutations.Case c = Mutations.mutate(json, 900, i);
            return new Mutations.Case(file(new String(c.bytes(), StandardCharsets.ISO_8859_1), new byte[24]), c.mutations());
        }, "header seed 900", 4000, BUDGET, IN_MEMORY, "fuzz.safetensors", IOException.class);
        assertTrue(s.accepted() > 0 && s.rejected() > s.cases() / 2, "header edits should be mostly rejected, some accepted: " + s);
    }

    /**
     * The cases and their relatives: element counts or byte sizes that overflow a long (shape [2^62] with
     * 0 bytes; [2^40, 2^40]; [2^62 + 1] of F32 whose 4 * count wraps to 4, the size of the data given).
     */
    @Test
    void hugeShapesAreRefused(@TempDir Path dir) throws IOException {
        String[][] cases = {{"[4611686018427387904]", "0"}, {"[1099511627776,1099511627776]", "0"}, {"[4611686018427387905]", "4"},
                {"[2305843009213693953]", "4"}, {"[9223372036854775807]", "4"}, {"[0,9223372036854775807]", "0"},
                {"[2147483648]", "0"}, {"[3,3074457345618258603]", "4"}, {"[9223372036854775808]", "0"}, {"[1e3]", "0"}, {"[2.5]", "0"}};
        for (String[] c : cases) {
            int bytes = Integer.parseInt(c[1]);
            Path f = dir.resolve("huge.safetensors");
            Files.write(f, file("{\"x\":{\"dtype\":\"F32\",\"shape\":" + c[0] + ",\"data_offsets\":[0," + bytes + "]}}", new byte[bytes]));
            IOException e = assertThrows(IOException.class, () -> Safetensors.read(f), c[0] + " with " + bytes + " bytes");
            assertTrue(e.getMessage().contains("huge.safetensors") && e.getMessage().contains("'x'") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void headerLengthsNearTheLimits(@TempDir Path dir) throws IOException {
        byte[] valid = file(MIXED, new byte[24]);
        for (long len : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 7, 1L << 62, Integer.MAX_VALUE + 1L, 8, valid.length}) {
            byte[] b = Arrays.copyOf(valid, valid.length);
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
            Path f = dir.resolve("len.safetensors");
            Files.write(f, b);
            IOException e = assertThrows(IOException.class, () -> Safetensors.read(f), "header length " + len);
            assertTrue(e.getMessage().contains("len.safetensors") && e.getMessage().contains("header"), e.getMessage());
        }
    }

    @Test
    void missingFileAndDirectoryAreNamed(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(dir.resolve("nope.safetensors")));
        assertTrue(e.getMessage().contains("nope.safetensors") && e.getMessage().contains("not found"), e.getMessage());
        e = assertThrows(IOException.class, () -> Safetensors.read(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("directory"), e.getMessage());
    }
}
