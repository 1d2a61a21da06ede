package org.mae4j.io;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * float32 tensors to and from {@code .npy} streams in fixed-size chunks, so that a tensor of any size (the
 * optimizer moments of ViT-H are 2.5 GB) moves between ND4J's off-heap memory and a file through one small
 * heap buffer, with {@code long} sizes throughout. The data bytes pass through a CRC32C that the checkpoint
 * manifest records and loading verifies.
 */
final class TensorStreams {
    private TensorStreams() {}

    /** Floats per chunk: 1 MiB of heap. */
    private static final int CHUNK = 1 << 18;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /**
     * Writes a (float32, C-contiguous: a ParamStore view or flat buffer) as a version 1.0 .npy; returns the
     * CRC32C of its data bytes (the header excluded).
     */
    static long write(INDArray a, OutputStream os) throws IOException {
        if (a.dataType() != DataType.FLOAT) throw new IllegalArgumentException("checkpoints hold float32 tensors, got " + a.dataType());
        if (!contiguous(a)) {
            throw new IllegalArgumentException("tensor " + java.util.Arrays.toString(a.shape()) + " is not a contiguous C-order array");
        }
        os.write(header(a.shape()));
        CRC32C crc = new CRC32C();
        long n = a.length();
        if (n == 0) return crc.getValue();
        FloatPointer src = new FloatPointer(a.data().addressPointer());
        float[] f = new float[(int) Math.min(CHUNK, n)];
        ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long at = 0; at < n; at += f.length) {
            int len = (int) Math.min(f.length, n - at);
            src.position(at).get(f, 0, len);
            b.clear();
            b.asFloatBuffer().put(f, 0, len);
            crc.update(b.array(), 0, 4 * len);
            os.write(b.array(), 0, 4 * len);
        }
        return crc.getValue();
    }

    /** Whether a's elements are one run of memory in C order (dims of size 1 may have any stride). */
    static boolean contiguous(INDArray a) {
        long[] shape = a.shape(), stride = a.stride();
        long want = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (stride[i] != want) return false;
            want *= shape[i];
        }
        return true;
    }

    /** The .npy header of a float32 C-order array of this shape (version 1.0, padded to 64 bytes). */
    static byte[] header(long[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (long d : shape) s.append(d).append(", ");
        if (shape.length > 1) s.setLength(s.length() - 2);
        else if (shape.length == 1) s.setLength(s.length() - 1);
        s.append(")");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h);
        return out.array();
    }

    /**
     * Reads a .npy written by {@link #write} into {@code into} (float32, contiguous, of the expected length),
     * returning the CRC32C of the data bytes read. The header must be exactly the one {@link #write} makes for
     * {@code shape}: checkpoints are only ever written by this class.
     *
     * @throws IOException naming {@code what} when the header differs, the data ends early or runs long
     */
    static long read(InputStream is, long[] shape, INDArray into, String what) throws IOException {
        byte[] want = header(shape);
        byte[] got = is.readNBytes(want.length);
        if (!java.util.Arrays.equals(want, got)) {
            throw new IOException(what + ": .npy header does not match the manifest's float32 shape " + java.util.Arrays.toString(shape));
        }
        CRC32C crc = new CRC32C();
        long n = into.length();
        FloatPointer dst = new FloatPointer(into.data().addressPointer());
        float[] f = new float[(int) Math.max(1, Math.min(CHUNK, n))];
        byte[] raw = new byte[4 * f.length];
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (long at = 0; at < n; at += f.length) {
            int len = (int) Math.min(f.length, n - at);
            int read = is.readNBytes(raw, 0, 4 * len);
            if (read < 4 * len) throw new EOFException(what + ": data ends after " + (4 * at + read) + " of " + 4 * n + " bytes");
            crc.update(raw, 0, 4 * len);
            b.clear();
            b.asFloatBuffer().get(f, 0, len);
            dst.position(at).put(f, 0, len);
        }
        if (is.read() != -1) throw new IOException(what + ": more data than the manifest's shape " + java.util.Arrays.toString(shape) + " holds");
        return crc.getValue();
    }

    /** A fresh float32 array of this shape (C order), for {@link #read}. */
    static INDArray allocate(long[] shape) {
        return Nd4j.create(DataType.FLOAT, shape, 'c');
    }
}
