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
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {

    // ------------------------------------------------------------------ hand-built files (NumPy format spec)

    /** A .npy file: magic, version, header length, the header dict padded with spaces and ended by '\n', then data. */
    private static byte[] npy(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    private static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    }

    private static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    private static byte[] leShorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int s : v) b.putShort((short) s);
        return b.array();
    }

    private static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    // ------------------------------------------------------------------ round trips

    private static INDArray sample(DataType dt, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        INDArray flat = Nd4j.linspace(DataType.DOUBLE, -3, n, 1).muli(dt.isFPType() ? 0.37 : 1e9 * (dt == DataType.LONG ? 100 : 0) + 7)
                .castTo(dt);
        return shape.length == 0 ? flat.reshape() : flat.reshape('c', shape);
    }

    @Test
    void roundTripFloatDoubleLongIntOfRanksZeroToThree(@TempDir Path dir) throws IOException {
        long[][] shapes = {{}, {5}, {3, 4}, {2, 3, 4}, {1, 1}, {1}};
        for (DataType dt : new DataType[]{DataType.FLOAT, DataType.DOUBLE, DataType.LONG, DataType.INT}) {
            for (long[] shape : shapes) {
                INDArray a = sample(dt, shape);
                if (shape.length == 0) a = Nd4j.scalar(dt, 42.5).castTo(dt);
                assertArrayEquals(shape, a.shape(), "test setup");
                Path f = dir.resolve(dt + "-" + shape.length + "-" + Arrays.toString(shape).replaceAll("[^0-9]", "_") + ".npy");
                Npy.write(f, a);
                INDArray back = Npy.read(f);
                String what = dt + " " + Arrays.toString(shape);
                assertEquals(dt, back.dataType(), what);
                assertArrayEquals(shape, back.shape(), what);
                assertEquals(a, back, what);
                assertEquals(a, Npy.fromBytes(Npy.toBytes(a), "bytes"), what);
            }
        }
    }

    @Test
    void extremeValuesSurvive(@TempDir Path dir) throws IOException {
        INDArray f = Nd4j.createFromArray(Float.MIN_VALUE, -0f, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN, 1e-38f);
        Npy.write(dir.resolve("f.npy"), f);
        float[] back = Npy.read(dir.resolve("f.npy")).toFloatVector();
        for (int i = 0; i < back.length; i++) assertEquals(Float.floatToRawIntBits(f.getFloat(i)), Float.floatToRawIntBits(back[i]), "element " + i);
        INDArray l = Nd4j.createFromArray(Long.MIN_VALUE, Long.MAX_VALUE, 0L, -1L);
        Npy.write(dir.resolve("l.npy"), l);
        assertArrayEquals(l.toLongVector(), Npy.read(dir.resolve("l.npy")).toLongVector());
        INDArray i = Nd4j.createFromArray(Integer.MIN_VALUE, Integer.MAX_VALUE, -7);
        Npy.write(dir.resolve("i.npy"), i);
        assertArrayEquals(i.toIntVector(), Npy.read(dir.resolve("i.npy")).toIntVector());
    }

    /** A non-contiguous view (a transpose) is written in C order of its logical values. */
    @Test
    void viewsAreWrittenInLogicalCOrder(@TempDir Path dir) throws IOException {
        INDArray a = Nd4j.linspace(DataType.FLOAT, 0, 6, 1).reshape('c', 2, 3);
        INDArray t = a.transpose();                                     // [3, 2]: [[0, 3], [1, 4], [2, 5]]
        Npy.write(dir.resolve("t.npy"), t);
        INDArray back = Npy.read(dir.resolve("t.npy"));
        assertArrayEquals(new long[]{3, 2}, back.shape());
        assertArrayEquals(new float[]{0, 3, 1, 4, 2, 5}, back.reshape(6).toFloatVector());
        INDArray f = Nd4j.linspace(DataType.DOUBLE, 0, 6, 1).reshape('f', 2, 3);
        Npy.write(dir.resolve("f.npy"), f);
        assertEquals(f, Npy.read(dir.resolve("f.npy")));
    }

    /** The header NumPy would write: version 1.0, '<f4', shape tuple syntax, data 64-byte aligned, little-endian data. */
    @Test
    void writtenBytesFollowTheFormat() {
        byte[] b = Npy.toBytes(Nd4j.createFromArray(1.5f, -2f, 0.25f));
        assertEquals((byte) 0x93, b[0]);
        assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, b[6]);
        assertEquals(0, b[7]);
        int hl = ByteBuffer.wrap(b, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        assertEquals(0, (10 + hl) % 64, "data must start on a 64-byte boundary");
        String header = new String(b, 10, hl, StandardCharsets.ISO_8859_1);
        assertTrue(header.endsWith("\n"), header);
        assertTrue(header.contains("'descr': '<f4'"), header);
        assertTrue(header.contains("'fortran_order': False"), header);
        assertTrue(header.contains("'shape': (3,)"), "1-d shape must be written as (3,): " + header);
        assertEquals(10 + hl + 12, b.length);
        ByteBuffer data = ByteBuffer.wrap(b, 10 + hl, 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1.5f, data.getFloat());
        assertEquals(-2f, data.getFloat());
        assertEquals(0.25f, data.getFloat());

        String h0 = header(Npy.toBytes(Nd4j.scalar(3.0)));
        assertTrue(h0.contains("'shape': ()") && h0.contains("'<f8'"), h0);
        String h2 = header(Npy.toBytes(Nd4j.create(DataType.LONG, 2, 3)));
        assertTrue(h2.contains("'shape': (2, 3)") && h2.contains("'<i8'"), h2);
        String h3 = header(Npy.toBytes(Nd4j.create(DataType.INT, 2, 3, 4)));
        assertTrue(h3.contains("'shape': (2, 3, 4)") && h3.contains("'<i4'"), h3);
    }

    private static String header(byte[] b) {
        int hl = ByteBuffer.wrap(b, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        return new String(b, 10, hl, StandardCharsets.ISO_8859_1);
    }

    @Test
    void unsupportedWriteDtypeIsRejected() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Npy.toBytes(Nd4j.create(DataType.HALF, 2)));
        assertTrue(ex.getMessage().contains("HALF"), ex.getMessage());
    }

    // ------------------------------------------------------------------ reading other dtypes

    @Test
    void readsHandBuiltFloat16(@TempDir Path dir) throws IOException {
        // IEEE binary16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF, 2^-24 = 0x0001 (subnormal), +inf = 0x7C00
        Path f = write(dir, "h.npy", npy(1, dict("<f2", false, "(2, 3)"), leShorts(0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00)));
        INDArray a = Npy.read(f);
        assertEquals(DataType.HALF, a.dataType());
        assertArrayEquals(new long[]{2, 3}, a.shape());
        assertArrayEquals(new float[]{1f, -2f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY}, a.castTo(DataType.FLOAT).reshape(6).toFloatVector());
    }

    @Test
    void readsHandBuiltUint8AndBool(@TempDir Path dir) throws IOException {
        Path f = write(dir, "u.npy", npy(1, dict("|u1", false, "(4,)"), new byte[]{0, 1, (byte) 200, (byte) 255}));
        INDArray a = Npy.read(f);
        assertEquals(DataType.UBYTE, a.dataType());
        assertArrayEquals(new long[]{4}, a.shape());
        assertArrayEquals(new int[]{0, 1, 200, 255}, a.castTo(DataType.INT).toIntVector(), "uint8 values are unsigned");
        assertArrayEquals(new double[]{0, 1, 200, 255}, a.castTo(DataType.DOUBLE).toDoubleVector(), 0.0);

        Path g = write(dir, "b.npy", npy(1, dict("|b1", false, "(3,)"), new byte[]{1, 0, 1}));
        INDArray b = Npy.read(g);
        assertEquals(DataType.BOOL, b.dataType());
        assertArrayEquals(new int[]{1, 0, 1}, b.castTo(DataType.INT).toIntVector());
    }

    @Test
    void readsVersion2HeadersAndOtherKeyOrders(@TempDir Path dir) throws IOException {
        Path f = write(dir, "v2.npy", npy(2, "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", le(7f, -1f)));
        assertArrayEquals(new float[]{7f, -1f}, Npy.read(f).toFloatVector());
        Path s = write(dir, "s.npy", npy(1, dict("<f4", false, "()"), le(3.25f)));
        INDArray sc = Npy.read(s);
        assertEquals(0, sc.rank());
        assertEquals(3.25f, sc.getFloat(0), 0f);
    }

    // ------------------------------------------------------------------ malformed files

    private static String failure(Path f) {
        IOException ex = assertThrows(IOException.class, () -> Npy.read(f));
        String m = ex.getMessage();
        assertTrue(m.contains(f.getFileName().toString()), "message should name the file " + f.getFileName() + ": " + m);
        return m;
    }

    private static void assertMentions(String m, String... parts) {
        for (String p : parts) assertTrue(m.toLowerCase().contains(p.toLowerCase()), "message should mention '" + p + "': " + m);
    }

    @Test
    void badMagic(@TempDir Path dir) throws IOException {
        byte[] b = npy(1, dict("<f4", false, "(2,)"), le(1, 2));
        b[1] = 'X';
        assertMentions(failure(write(dir, "magic.npy", b)), "magic");
        assertMentions(failure(write(dir, "text.npy", "just some text, not numpy at all".getBytes(StandardCharsets.US_ASCII))), "magic");
        failure(write(dir, "tiny.npy", new byte[]{(byte) 0x93, 'N'}));
        failure(write(dir, "empty.npy", new byte[0]));
    }

    @Test
    void truncatedHeader(@TempDir Path dir) throws IOException {
        byte[] b = npy(1, dict("<f4", false, "(2,)"), le(1, 2));
        int hl = ByteBuffer.wrap(b, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        assertMentions(failure(write(dir, "cut.npy", Arrays.copyOf(b, 10 + hl / 2))), "header");
        byte[] v2 = npy(2, dict("<f4", false, "(2,)"), le(1, 2));
        assertMentions(failure(write(dir, "cut2.npy", Arrays.copyOf(v2, 30))), "header");
    }

    @Test
    void truncatedOrOverlongData(@TempDir Path dir) throws IOException {
        byte[] b = npy(1, dict("<f4", false, "(2, 3)"), le(1, 2, 3, 4, 5, 6));
        String m = failure(write(dir, "short.npy", Arrays.copyOf(b, b.length - 3)));
        assertMentions(m, "21", "24");                       // 21 bytes present, 24 expected
        m = failure(write(dir, "long.npy", Arrays.copyOf(b, b.length + 4)));
        assertMentions(m, "28", "24");
    }

    @Test
    void unsupportedDtypes(@TempDir Path dir) throws IOException {
        assertMentions(failure(write(dir, "be.npy", npy(1, dict(">f4", false, "(2,)"), new byte[8]))), ">f4");
        assertMentions(failure(write(dir, "c8.npy", npy(1, dict("<c8", false, "(1,)"), new byte[8]))), "<c8");
        assertMentions(failure(write(dir, "u2.npy", npy(1, dict("<u2", false, "(2,)"), new byte[4]))), "<u2");
    }

    @Test
    void fortranOrderIsRejected(@TempDir Path dir) throws IOException {
        assertMentions(failure(write(dir, "fortran.npy", npy(1, dict("<f4", true, "(2, 3)"), le(1, 2, 3, 4, 5, 6)))), "fortran");
    }

    @Test
    void missingFieldsAndBadVersion(@TempDir Path dir) throws IOException {
        assertMentions(failure(write(dir, "noshape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, }", le(1)))), "shape");
        assertMentions(failure(write(dir, "nodescr.npy", npy(1, "{'fortran_order': False, 'shape': (1,), }", le(1)))), "descr");
        byte[] b = npy(1, dict("<f4", false, "(1,)"), le(1));
        b[6] = 9;
        assertMentions(failure(write(dir, "v9.npy", b)), "9");
        assertMentions(failure(write(dir, "neg.npy", npy(1, dict("<f4", false, "(-1,)"), le(1)))), "-1");
    }

    @Test
    void fromBytesNamesItsSource() {
        IOException ex = assertThrows(IOException.class, () -> Npy.fromBytes(new byte[20], "archive.zip!/w.npy"));
        assertTrue(ex.getMessage().contains("archive.zip!/w.npy"), ex.getMessage());
    }

    // ------------------------------------------------------------------ a real reference file

    /** pos_embed of the micro-s1 fixture, written by NumPy: [1, 1 + L, D] = [1, 17, 32] float32, cls row zero. */
    @Test
    void readsARealFixtureFile() throws Exception {
        INDArray a = Npy.read(Path.of(getClass().getResource("/npy/pos_embed.npy").toURI()));
        assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(new long[]{1, 17, 32}, a.shape());
        INDArray t = a.reshape(17, 32);
        assertEquals(0.0, t.getRow(0).norm2Number().doubleValue(), 0.0);
        // patch (0, 0): sin 0 | cos 0 | sin 0 | cos 0 with n = 8
        for (int k = 0; k < 8; k++) {
            assertEquals(0f, t.getFloat(1, k), 0f);
            assertEquals(1f, t.getFloat(1, 8 + k), 0f);
            assertEquals(0f, t.getFloat(1, 16 + k), 0f);
            assertEquals(1f, t.getFloat(1, 24 + k), 0f);
        }
        assertEquals((float) Math.sin(1), t.getFloat(2, 0), 0f);   // patch (r 0, q 1), w_0 = 1
        // and it survives our own writer byte for byte in value
        assertEquals(a, Npy.fromBytes(Npy.toBytes(a), "rewritten"));
    }
}
