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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {

    /** A file built by hand: header JSON, then data bytes. */
    private static Path file(Path dir, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = dir.resolve("t.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    @Test
    void roundTripKeepsValuesShapesOrderAndMetadata(@TempDir Path dir) throws IOException {
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("b.weight", Nd4j.rand(DataType.FLOAT, 3, 5));
        t.put("a.bias", Nd4j.rand(DataType.FLOAT, 7));
        t.put("scalar", Nd4j.scalar(2.5f));
        Path f = dir.resolve("x.safetensors");
        Safetensors.write(f, t, Map.of("format", "pt"));
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(List.of("b.weight", "a.bias", "scalar"), List.copyOf(c.tensors().keySet()));
        for (String k : t.keySet()) assertEquals(t.get(k), c.tensors().get(k), k);
        assertEquals(Map.of("format", "pt"), c.metadata());
        ByteBuffer len = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, len.getLong() % 8, "header padded so the data area is 8-byte aligned");
    }

    @Test
    void readsHalfAndBfloat16(@TempDir Path dir) throws IOException {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00
        ByteBuffer d = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x3800);
        d.putShort((short) 0x3F80).putShort((short) 0xC000).putShort((short) 0x3F00);
        Path f = file(dir, "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]}}", d.array());
        Safetensors.Contents c = Safetensors.read(f);
        assertArrayEquals(new float[] {1f, -2f, 0.5f}, c.tensors().get("h").toFloatVector());
        assertArrayEquals(new float[] {1f, -2f, 0.5f}, c.tensors().get("b").toFloatVector());
    }

    private static void assertRejected(Path f, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "message '" + e.getMessage() + "' should contain '" + s + "'");
    }

    @Test
    void malformedFilesAreRejectedWithTheProblemNamed(@TempDir Path dir) throws IOException {
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", le(1f)), "x", "outside the data area");
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", le(1f, 2f)), "x", "expected 12");
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"Q8\",\"shape\":[2],\"data_offsets\":[0,8]}}", le(1f, 2f)), "unsupported dtype Q8");
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", le(1f, 2f)), "starts at byte 4");
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", le(1f, 2f)), "cover 4 bytes of a 8-byte");
        assertRejected(file(dir, "{\"x\": [1, 2", le(1f)), "not valid JSON");
        assertRejected(file(dir, "[1]", new byte[0]), "JSON object");
        assertRejected(file(dir, "{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", le(1f)), "data_offsets");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertRejected(tiny, "shorter than 8 bytes");
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertRejected(huge, "invalid header length");
    }
}
