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
import java.util.Arrays;
import java.util.List;

/**
 * NumPy {@code .npy} files (format versions 1, 2 and 3), C order, little-endian or byte-sized types:
 * float32, float64, float16, int64, int32, uint8, bool. Reading is strict and never trusts a size it has not
 * checked against the file: the header dict is parsed field by field, dimensions and element counts are
 * bounded (2^31 - 1 elements, ND4J's and Java's array limit) before any arithmetic that could overflow, and
 * every problem is an IOException whose one-line message names the file and the problem.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Files are read whole into one byte array. */
    private static final long MAX_FILE = Integer.MAX_VALUE - 8;

    /**
     * Reads a whole file into a new array (0-d files become arrays of shape []).
     *
     * @throws IOException if the file cannot be read or is not a supported .npy file; the one-line message
     *                     names the file and the problem
     */
    public static INDArray read(Path file) throws IOException {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not a .npy file");
            if (size > MAX_FILE) throw new IOException(file + ": " + size + " bytes, too large to read (at most " + MAX_FILE + ")");
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file + ": ") ? e : FileProblems.reading(file, e);
        }
        return fromBytes(bytes, file.toString());
    }

    /** Parses the bytes of a .npy file; source names it in error messages (an IOException, one line). */
    public static INDArray fromBytes(byte[] bytes, String source) throws IOException {
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    /** The array in bytes; a malformed file fails with an IllegalArgumentException stating the problem. */
    static INDArray parse(byte[] bytes) {
        if (bytes.length < 10) throw new IllegalArgumentException("not a .npy file: only " + bytes.length + " bytes");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new IllegalArgumentException("not a .npy file (bad magic string)");
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6] & 0xff;
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            start = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new IllegalArgumentException("truncated header: " + bytes.length + " bytes, a version " + major + " prefix has 12");
            headerLen = bb.getInt(8) & 0xffffffffL;
            start = 12;
        } else {
            throw new IllegalArgumentException("unsupported .npy format version " + major + "." + (bytes[7] & 0xff) + " (1, 2 and 3 are)");
        }
        // long arithmetic: a version 2 length near 2^31 plus the 12-byte prefix overflows an int
        if (start + headerLen > bytes.length) {
            throw new IllegalArgumentException("truncated header: its length field says " + headerLen + " bytes, the file has "
                    + (bytes.length - start) + " after the prefix");
        }
        String header = new String(bytes, start, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = Header.parse(header);
        Type type = Type.of(h.descr());
        if (h.fortranOrder()) {
            throw new IllegalArgumentException("fortran_order arrays are not supported; save with np.ascontiguousarray");
        }
        long count = 1;
        for (long d : h.shape()) {
            if (d > Integer.MAX_VALUE) throw new IllegalArgumentException("dimension " + d + " of shape " + Arrays.toString(h.shape()) + " is too large");
            count = Math.multiplyExact(count, d);   // cannot throw: both factors are below 2^31 here
            if (count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("array too large: shape " + Arrays.toString(h.shape()) + " has more than " + Integer.MAX_VALUE + " elements");
            }
        }
        int dataStart = start + (int) headerLen;
        long need = count * type.size;               // count < 2^31, size <= 8
        long have = bytes.length - (long) dataStart;
        if (have != need) {
            throw new IllegalArgumentException("data has " + have + " bytes, expected " + need
                    + " for shape " + Arrays.toString(h.shape()) + " of " + h.descr());
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
        if (h.shape().length == 0) return flat.reshape();
        if (n == 0) return Nd4j.create(flat.dataType(), h.shape());
        return flat.reshape('c', h.shape());
    }

    /** Writes float32/float64/int64/int32 arrays (format version 1.0, C order, little-endian), atomically ({@link AtomicFiles}). */
    public static void write(Path file, INDArray a) throws IOException {
        byte[] bytes = toBytes(a);
        AtomicFiles.write(file, os -> os.write(bytes));
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
    /**
     * The header dict, parsed as the Python literal it is ({@code {'descr': '<f4', 'fortran_order': False,
     * 'shape': (2, 3), }}) and checked field by field: exactly the keys descr (a string), fortran_order (True or
     * False) and shape (a tuple of non-negative integers), as NumPy requires; whitespace, a trailing comma and
     * NumPy's padding are allowed, anything else is an error that quotes the header.
     */
    private record Header(String descr, boolean fortranOrder, long[] shape) {
        private static final int MAX_DIMS = 64;   // NumPy 2's limit (NPY_MAXDIMS)

        static Header parse(String text) {
            Cursor c = new Cursor(text);
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            c.skipSpace();
            c.expect('{', "the header must be a dict");
            c.skipSpace();
            while (!c.peek('}')) {
                String key = c.string("a quoted key");
                c.skipSpace();
                c.expect(':', "':' expected after '" + FileProblems.excerpt(key, 40) + "'");
                c.skipSpace();
                switch (key) {
                    case "descr" -> {
                        if (descr != null) throw c.error("duplicate key 'descr'");
                        if (c.peek('[')) throw c.error("structured dtypes (a list as descr) are not supported");
                        descr = c.string("descr as a quoted string");
                    }
                    case "fortran_order" -> {
                        if (fortran != null) throw c.error("duplicate key 'fortran_order'");
                        if (c.word("True")) fortran = true;
                        else if (c.word("False")) fortran = false;
                        else throw c.error("fortran_order must be True or False");
                    }
                    case "shape" -> {
                        if (shape != null) throw c.error("duplicate key 'shape'");
                        shape = tuple(c);
                    }
                    default -> throw c.error("unexpected key '" + FileProblems.excerpt(key, 40) + "' (only descr, fortran_order and shape)");
                }
                c.skipSpace();
                if (c.peek(',')) {
                    c.pos++;
                    c.skipSpace();
                } else if (!c.peek('}')) {
                    throw c.error("',' or '}' expected");
                }
            }
            c.pos++;
            c.skipSpace();
            if (c.pos != text.length()) throw c.error("unexpected text after the dict");
            if (descr == null) throw c.error("header has no 'descr' field");
            if (fortran == null) throw c.error("header has no 'fortran_order' field");
            if (shape == null) throw c.error("header has no 'shape' field");
            return new Header(descr, fortran, shape);
        }

        private static long[] tuple(Cursor c) {
            c.expect('(', "shape must be a tuple");
            List<Long> dims = new ArrayList<>();
            c.skipSpace();
            while (!c.peek(')')) {
                int s = c.pos;
                if (c.peek('-')) c.pos++;
                while (c.pos < c.text.length() && c.text.charAt(c.pos) >= '0' && c.text.charAt(c.pos) <= '9') c.pos++;
                String digits = c.text.substring(s, c.pos);
                if (digits.isEmpty() || digits.equals("-")) throw c.error("shape entries must be integers");
                if (c.peek('L')) c.pos++;      // Python 2 longs, in files written by old NumPy
                if (digits.startsWith("-")) throw c.error("negative dimension " + FileProblems.excerpt(digits, 30));
                long d;
                try {
                    d = Long.parseLong(digits);
                } catch (NumberFormatException e) {
                    throw c.error("dimension " + FileProblems.excerpt(digits, 30) + " is too large");
                }
                dims.add(d);
                if (dims.size() > MAX_DIMS) throw c.error("more than " + MAX_DIMS + " dimensions");
                c.skipSpace();
                if (c.peek(',')) {
                    c.pos++;
                    c.skipSpace();
                } else if (!c.peek(')')) {
                    throw c.error("',' or ')' expected in shape");
                }
            }
            c.pos++;
            long[] r = new long[dims.size()];
            for (int i = 0; i < r.length; i++) r[i] = dims.get(i);
            return r;
        }
    }

    /** A position in header text, with errors that quote the header. */
    private static final class Cursor {
        final String text;
        int pos;

        Cursor(String text) { this.text = text; }

        void skipSpace() { while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++; }

        boolean peek(char ch) { return pos < text.length() && text.charAt(pos) == ch; }

        void expect(char ch, String what) {
            if (!peek(ch)) throw error(what);
            pos++;
        }

        boolean word(String w) {
            if (!text.startsWith(w, pos)) return false;
            pos += w.length();
            return true;
        }

        /** A Python string literal in single or double quotes, without escapes (NumPy writes none in these fields). */
        String string(String what) {
            if (!peek('\'') && !peek('"')) throw error(what + " expected");
            char q = text.charAt(pos);
            int end = text.indexOf(q, pos + 1);
            if (end < 0) throw error("unterminated string");
            String s = text.substring(pos + 1, end);
            if (s.indexOf('\\') >= 0) throw error("escapes in strings are not supported");
            pos = end + 1;
            return s;
        }

        IllegalArgumentException error(String problem) {
            return new IllegalArgumentException("bad header: " + problem + " at character " + pos + " of \""
                    + FileProblems.excerpt(text.stripTrailing(), 120) + "\"");
        }
    }

    private enum Type {
        F4("<f4", 4), F8("<f8", 8), F2("<f2", 2), I8("<i8", 8), I4("<i4", 4), U1("|u1", 1), B1("|b1", 1);
        final String descr; final int size;
        Type(String descr, int size) { this.descr = descr; this.size = size; }
        static Type of(String descr) {
            for (Type t : values()) if (t.descr.equals(descr)) return t;
            if (descr.equals("u1") || descr.equals("<u1")) return U1;
            throw new IllegalArgumentException("unsupported dtype '" + FileProblems.excerpt(descr, 20) + "' (supported: <f4 <f8 <f2 <i8 <i4 |u1 |b1; big-endian is not)");
        }
    }
}
