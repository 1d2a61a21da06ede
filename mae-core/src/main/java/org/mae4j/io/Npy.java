package org.mae4j.io;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format versions 1, 2 and 3), C order, little-endian or byte-sized types:
 * float32, float64, float16, int64, int32, uint8, bool. Anything else fails naming the file and the field.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads a whole file into a new array (0-d files become arrays of shape []). */
    public static INDArray read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses the bytes of a .npy file; source names it in error messages. */
    public static INDArray fromBytes(byte[] bytes, String source) throws IOException {
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    static INDArray parse(byte[] bytes) {
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10) throw new IllegalArgumentException("not a .npy file: only " + bytes.length + " bytes");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new IllegalArgumentException("not a .npy file (bad magic string)");
        }
        int major = bytes[6];
        int headerLen, start;
        if (major == 1) { headerLen = bb.getShort(8) & 0xffff; start = 10; }
        else if (major == 2 || major == 3) { headerLen = bb.getInt(8); start = 12; }
        else throw new IllegalArgumentException("unsupported .npy format version " + major);
        if (headerLen < 0 || start + headerLen > bytes.length) throw new IllegalArgumentException("truncated header");
        String header = new String(bytes, start, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = field(DESCR, header, "descr");
        if (field(FORTRAN, header, "fortran_order").equals("True")) {
            throw new IllegalArgumentException("fortran_order arrays are not supported; save with np.ascontiguousarray");
        }
        long[] shape = parseShape(field(SHAPE, header, "shape"));
        long count = 1;
        for (long s : shape) count *= s;
        int dataStart = start + headerLen;
        Type type = Type.of(descr);
        long need = count * type.size;
        if (bytes.length - dataStart != need) {
            throw new IllegalArgumentException("data has " + (bytes.length - dataStart) + " bytes, expected " + need
                    + " for shape " + java.util.Arrays.toString(shape) + " of " + descr);
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) need).slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) count;
        INDArray flat = switch (type) {
            case F4 -> { float[] a = new float[n]; data.asFloatBuffer().get(a); yield Nd4j.createFromArray(a); }
            case F8 -> { double[] a = new double[n]; data.asDoubleBuffer().get(a); yield Nd4j.createFromArray(a); }
            case F2 -> { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = Half.toFloat(data.getShort(2 * i)); yield Nd4j.createFromArray(a).castTo(DataType.HALF); }
            case I8 -> { long[] a = new long[n]; data.asLongBuffer().get(a); yield Nd4j.createFromArray(a); }
            case I4 -> { int[] a = new int[n]; data.asIntBuffer().get(a); yield Nd4j.createFromArray(a); }
            case U1 -> { byte[] a = new byte[n]; data.get(a); yield Nd4j.createFromArray(a).castTo(DataType.UBYTE); }
            case B1 -> { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = data.get(i) != 0; yield Nd4j.createFromArray(a); }
        };
        return shape.length == 0 ? flat.reshape() : flat.reshape('c', shape);
    }

    /** Writes float32/float64/int64/int32 arrays (format version 1.0, C order, little-endian). */
    public static void write(Path file, INDArray a) throws IOException {
        Files.write(file, toBytes(a));
    }

    /** The bytes of a .npy file holding a (float32/float64/int64/int32, format version 1.0). */
    public static byte[] toBytes(INDArray a) {
        Type type = switch (a.dataType()) {
            case FLOAT -> Type.F4; case DOUBLE -> Type.F8; case LONG -> Type.I8; case INT -> Type.I4;
            default -> throw new IllegalArgumentException("cannot write " + a.dataType() + " to .npy (float, double, long, int only)");
        };
        long[] shape = a.shape();
        StringBuilder s = new StringBuilder("(");
        for (long d : shape) s.append(d).append(", ");
        if (shape.length > 1) s.setLength(s.length() - 2);
        else if (shape.length == 1) s.setLength(s.length() - 1);
        s.append(")");
        String dict = "{'descr': '" + type.descr + "', 'fortran_order': False, 'shape': " + s + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        int n = (int) a.length();
        ByteBuffer out = ByteBuffer.allocate(10 + header.length() + n * type.size).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
        INDArray flat = a.dup('c').reshape(n);
        switch (type) {
            case F4 -> { for (float v : flat.toFloatVector()) out.putFloat(v); }
            case F8 -> { for (double v : flat.toDoubleVector()) out.putDouble(v); }
            case I8 -> { for (long v : flat.toLongVector()) out.putLong(v); }
            case I4 -> { for (int v : flat.toIntVector()) out.putInt(v); }
            default -> throw new AssertionError(type);
        }
        return out.array();
    }

    private static String field(Pattern p, String header, String name) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new IllegalArgumentException("header has no '" + name + "' field: " + header.trim());
        return m.group(1);
    }

    private static long[] parseShape(String s) {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) continue;
            long d;
            try { d = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t); }
            catch (NumberFormatException e) { throw new IllegalArgumentException("bad shape entry '" + t + "'"); }
            if (d < 0) throw new IllegalArgumentException("negative dimension " + d);
            dims.add(d);
        }
        long[] r = new long[dims.size()];
        for (int i = 0; i < r.length; i++) r[i] = dims.get(i);
        long count = 1;
        for (long d : r) { count *= d; if (count > Integer.MAX_VALUE) throw new IllegalArgumentException("array too large: shape (" + s + ")"); }
        return r;
    }

    private enum Type {
        F4("<f4", 4), F8("<f8", 8), F2("<f2", 2), I8("<i8", 8), I4("<i4", 4), U1("|u1", 1), B1("|b1", 1);
        final String descr; final int size;
        Type(String descr, int size) { this.descr = descr; this.size = size; }
        static Type of(String descr) {
            for (Type t : values()) if (t.descr.equals(descr)) return t;
            if (descr.equals("u1") || descr.equals("<u1")) return U1;
            throw new IllegalArgumentException("unsupported dtype '" + descr + "' (supported: <f4 <f8 <f2 <i8 <i4 |u1 |b1; big-endian is not)");
        }
    }
}
