package org.mae4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutations of valid .npy files (versions 1, 2 and 3; float32, int64, uint8, bool, 0-d and empty arrays) must
 * read or fail with an IOException whose one-line message names the source; never anything else, never a hang.
 */
class NpyFuzzTest {
    private static final Duration BUDGET = Duration.ofSeconds(60);

    /** A .npy file with the given header dict (version major), padded as NumPy pads it. */
    static byte[] npy(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    private static List<byte[]> validFiles() {
        return List.of(
                Npy.toBytes(Nd4j.linspace(DataType.FLOAT, -1, 12, 1).reshape(3, 4)),
                Npy.toBytes(Nd4j.createFromArray(5L, -7L)),
                Npy.toBytes(Nd4j.scalar(2.5)),
                npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2), }", new byte[16]),
                npy(3, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", new byte[] {0, 1, 2, (byte) 200, (byte) 255}),
                npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", new byte[] {1, 0, 1}),
                npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", new byte[0]));
    }

    @Test
    void blindMutationsOfWholeFiles() {
        List<byte[]> files = validFiles();
        int total = 0;
        for (int f = 0; f < files.size(); f++) {
            Mutations.Summary s = Mutations.fuzz(files.get(f), 1000 + f, 1500, BUDGET,
                    b -> Npy.fromBytes(b, "fuzz.npy"), "fuzz.npy", IOException.class);
            assertTrue(s.rejected() > s.cases() / 2, "most mutations should be rejected: " + s);
            total += s.cases();
        }
        assertTrue(total >= 10_000);
    }

    /**
     * Mutations of the header text only, with the header length repaired afterwards so that they reach the dict
     * parser rather than stopping at a length mismatch.
     */
    @Test
    void headerTextMutationsWithRepairedLength() {
        for (int major : new int[] {1, 2}) {
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
            byte[] data = new byte[24];
            byte[] valid = npy(major, dict, data);
            byte[] text = dict.getBytes(StandardCharsets.ISO_8859_1);
            long seed = 77 + major;
            Mutations.Summary s = Mutations.fuzz(valid, i -> {
                Mutations.Case c = Mutations.mutate(text, seed, i);
                String edited = new String(c.bytes(), StandardCharsets.ISO_8859_1);
                return new Mutations.Case(major == 1 && edited.length() > 60000 ? valid : npy(major, edited, data), c.mutations());
            }, "header seed " + seed, 3000, BUDGET, b -> Npy.fromBytes(b, "fuzz.npy"), "fuzz.npy", IOException.class);
            assertTrue(s.accepted() > 0 && s.rejected() > 0, "header edits should be both accepted and rejected: " + s);
        }
    }

    /** Sizes that overflow int or long arithmetic, against a short data area: each must be refused. */
    @Test
    void hugeShapesAreRefused() {
        String[] shapes = {"(4611686018427387904,)", "(4611686018427387905,)", "(1099511627776, 1099511627776)",
                "(9223372036854775807,)", "(9223372036854775808,)", "(0, 9223372036854775807)", "(2147483648,)",
                "(2, 4611686018427387904)", "(3, 3074457345618258603)", "(65536, 65536)"};
        for (String shape : shapes) {
            for (int bytes : new int[] {0, 4, 8}) {
                byte[] f = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", new byte[bytes]);
                IOException e = assertThrows(IOException.class, () -> Npy.fromBytes(f, "huge.npy"), shape + " with " + bytes + " bytes");
                assertTrue(e.getMessage().startsWith("huge.npy: ") && !e.getMessage().contains("\n"), e.getMessage());
            }
        }
    }

    /** The case: a version 2 header length of 0x7ffffff8 (its 12-byte prefix overflows an int). */
    @Test
    void version2HeaderLengthNearIntMax(@TempDir Path dir) {
        byte[] f = npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]);
        for (int len : new int[] {0x7ffffff8, 0x7fffffff, 0x7ffffff4, -1, Integer.MIN_VALUE}) {
            byte[] g = Arrays.copyOf(f, f.length);
            ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).putInt(8, len);
            IOException e = assertThrows(IOException.class, () -> Npy.fromBytes(g, "v2.npy"), "header length " + len);
            assertTrue(e.getMessage().contains("v2.npy") && e.getMessage().contains("header"), e.getMessage());
        }
    }
}
