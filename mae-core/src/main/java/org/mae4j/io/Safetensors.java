package org.mae4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (HuggingFace): an 8-byte little-endian header length n, n bytes of JSON
 * ({@code name -> {dtype, shape, data_offsets: [begin, end]}} plus an optional {@code __metadata__} map of
 * strings), then the raw little-endian tensor bytes. The reader is strict: offsets must tile the data area
 * exactly, sizes must match dtype and shape, and every problem names the file and the tensor.
 * Reads F32, F64, F16 and BF16 (converted to float32), I64, I32; writes F32.
 */
public final class Safetensors {
    private Safetensors() {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Headers larger than this are refused before anything is allocated (the reference reader's limit). */
    static final long MAX_HEADER = 100L << 20;

    /** One tensor's entry in the header. */
    public record Info(String name, String dtype, long[] shape, long begin, long end) {}

    /** A whole file: tensors in file order, and the free-form metadata. */
    public record Contents(Map<String, INDArray> tensors, Map<String, String> metadata) {}

    /** Reads the header only. */
    public static List<Info> header(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return parseHeader(ch, file, new LinkedHashMap<>());
        }
    }

    /** Reads every tensor. */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Map<String, String> meta = new LinkedHashMap<>();
            List<Info> infos = parseHeader(ch, file, meta);
            long dataStart = 8 + headerLength(ch, file);
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (Info i : infos) out.put(i.name(), readTensor(ch, file, dataStart, i));
            return new Contents(out, meta);
        }
    }

    private static long headerLength(FileChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        if (ch.read(b, 0) != 8) throw new IOException(file + ": not a safetensors file (shorter than 8 bytes)");
        return b.getLong(0);
    }

    private static List<Info> parseHeader(FileChannel ch, Path file, Map<String, String> meta) throws IOException {
        long size = ch.size();
        long n = headerLength(ch, file);
        if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
            throw new IOException(file + ": invalid header length " + n + " (file has " + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        JsonNode h;
        try {
            h = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (h == null || !h.isObject()) throw new IOException(file + ": header must be a JSON object");
        long dataLen = size - 8 - n;
        List<Info> infos = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new IOException(file + ": __metadata__ must be an object of strings");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) throw new IOException(file + ": __metadata__ value for '" + kv.getKey() + "' is not a string");
                    meta.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            JsonNode dt = v.get("dtype"), shape = v.get("shape"), off = v.get("data_offsets");
            if (dt == null || !dt.isTextual() || shape == null || !shape.isArray() || off == null || !off.isArray() || off.size() != 2) {
                throw new IOException(where + ": needs dtype (string), shape (array) and data_offsets ([begin, end])");
            }
            long[] s = new long[shape.size()];
            long count = 1;
            for (int i = 0; i < s.length; i++) {
                if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < 0) throw new IOException(where + ": bad shape " + shape);
                s[i] = shape.get(i).asLong();
                count = Math.multiplyExact(count, s[i]);
            }
            long begin = off.get(0).asLong(-1), end = off.get(1).asLong(-1);
            int width = elementSize(dt.asText(), where);
            if (begin < 0 || end < begin || end > dataLen) {
                throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] outside the data area of " + dataLen + " bytes");
            }
            if (end - begin != count * width) {
                throw new IOException(where + ": " + (end - begin) + " bytes for " + dt.asText() + " shape " + Arrays.toString(s)
                        + ", expected " + count * width);
            }
            infos.add(new Info(name, dt.asText(), s, begin, end));
        }
        infos.sort(Comparator.comparingLong(Info::begin));
        long pos = 0;
        for (Info i : infos) {
            if (i.begin() != pos) {
                throw new IOException(file + ": tensor '" + i.name() + "' starts at byte " + i.begin() + " but the previous one ends at " + pos
                        + " (tensors must tile the data area without gaps or overlaps)");
            }
            pos = i.end();
        }
        if (pos != dataLen) throw new IOException(file + ": tensors cover " + pos + " bytes of a " + dataLen + "-byte data area");
        return infos;
    }

    private static int elementSize(String dtype, String where) throws IOException {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new IOException(where + ": unsupported dtype " + dtype + " (F32, F64, F16, BF16, I64, I32)");
        };
    }

    private static INDArray readTensor(FileChannel ch, Path file, long dataStart, Info i) throws IOException {
        int bytes = Math.toIntExact(i.end() - i.begin());
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, dataStart + i.begin(), file);
        b.flip();
        int n = bytes / elementSize(i.dtype(), file.toString());
        INDArray flat = switch (i.dtype()) {
            case "F32" -> { float[] a = new float[n]; b.asFloatBuffer().get(a); yield Nd4j.createFromArray(a); }
            case "F64" -> { double[] a = new double[n]; b.asDoubleBuffer().get(a); yield Nd4j.createFromArray(a); }
            case "F16" -> { float[] a = new float[n]; for (int k = 0; k < n; k++) a[k] = Half.toFloat(b.getShort(2 * k)); yield Nd4j.createFromArray(a); }
            case "BF16" -> { float[] a = new float[n]; for (int k = 0; k < n; k++) a[k] = Half.bf16ToFloat(b.getShort(2 * k)); yield Nd4j.createFromArray(a); }
            case "I64" -> { long[] a = new long[n]; b.asLongBuffer().get(a); yield Nd4j.createFromArray(a); }
            case "I32" -> { int[] a = new int[n]; b.asIntBuffer().get(a); yield Nd4j.createFromArray(a); }
            default -> throw new IOException(file + ": unsupported dtype " + i.dtype());
        };
        return i.shape().length == 0 ? flat.reshape() : flat.reshape('c', i.shape());
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new IOException(file + ": truncated (unexpected end of file)");
        }
    }

    /**
     * The values of a, in C order, as float32. Goes through dup + toFloatVector rather than the data buffer:
     * the buffer of a view is its parent's (a ParamStore's whole flat buffer), and an empty array has none.
     */
    private static float[] floats(INDArray a) {
        if (a.length() == 0) return new float[0];
        return a.castTo(DataType.FLOAT).dup('c').reshape(a.length()).toFloatVector();
    }

    /** Writes tensors (in map order) as F32 with metadata, atomically (temporary file, then rename). */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode h = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = h.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long pos = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved");
            ObjectNode t = h.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode s = t.putArray("shape");
            for (long d : e.getValue().shape()) s.add(d);
            if (e.getValue().length() > Integer.MAX_VALUE / 4) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' has " + e.getValue().length() + " values, more than one write supports");
            }
            long len = 4 * e.getValue().length();
            t.putArray("data_offsets").add(pos).add(pos + len);
            pos += len;
        }
        byte[] json = JSON.writeValueAsBytes(h);
        int pad = (8 - json.length % 8) % 8;      // keep the data area 8-byte aligned, as the reference writer does
        byte[] header = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(header, json.length, header.length, (byte) ' ');
        AtomicFiles.write(file, os -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            os.write(len.array());
            os.write(header);
            for (INDArray a : tensors.values()) {
                float[] v = floats(a);
                ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(4, v.length)).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                os.write(b.array());
            }
        });
    }
}
