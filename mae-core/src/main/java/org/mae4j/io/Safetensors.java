package org.mae4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

    /** Strict JSON: a duplicate tensor name or text after the header object is an error, not silently dropped. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Headers larger than this are refused before anything is allocated (the reference reader's limit). */
    static final long MAX_HEADER = 100L << 20;

    /** One tensor's entry in the header. */
    public record Info(String name, String dtype, long[] shape, long begin, long end) {}

    /** A whole file: tensors in file order, and the free-form metadata. */
    public record Contents(Map<String, INDArray> tensors, Map<String, String> metadata) {}

    /** Reads the header only. */
    public static List<Info> header(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            return parseHeader(ch, file, new LinkedHashMap<>());
        }
    }

    /**
     * Reads every tensor.
     *
     * @throws IOException if the file cannot be read or is not a valid safetensors file of a supported dtype;
     *                     the one-line message names the file, the tensor where there is one, and the problem
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            return read(ch, file);
        }
    }

    /** Reads every tensor from a channel; file names it in messages (tests fuzz through memory, not the disk). */
    static Contents read(SeekableByteChannel ch, Path file) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        List<Info> infos = parseHeader(ch, file, meta);
        long dataStart = 8 + headerLength(ch, file);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Info i : infos) out.put(i.name(), readTensor(ch, file, dataStart, i));
        return new Contents(out, meta);
    }

    private static FileChannel open(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not a .safetensors file");
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw FileProblems.reading(file, e);
        }
    }

    private static long headerLength(SeekableByteChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0, file, "not a safetensors file (shorter than 8 bytes)");
        return b.getLong(0);
    }

    private static List<Info> parseHeader(SeekableByteChannel ch, Path file, Map<String, String> meta) throws IOException {
        long size = ch.size();
        long n = headerLength(ch, file);
        if (n <= 0 || n > MAX_HEADER || n > size - 8) {
            throw new IOException(file + ": invalid header length " + n + " (file has " + size + " bytes, headers at most " + MAX_HEADER + ")");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file, "truncated header");
        JsonNode h;
        try {
            h = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": header is not valid JSON: " + FileProblems.excerpt(e.getOriginalMessage(), 200), e);
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
                    if (!kv.getValue().isTextual()) {
                        throw new IOException(file + ": __metadata__ value for '" + FileProblems.excerpt(kv.getKey(), 80) + "' is not a string");
                    }
                    meta.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            infos.add(tensorInfo(file + ": tensor '" + FileProblems.excerpt(name, 120) + "'", name, v, dataLen));
        }
        infos.sort(Comparator.comparingLong(Info::begin));
        long pos = 0;
        for (Info i : infos) {
            if (i.begin() != pos) {
                throw new IOException(file + ": tensor '" + FileProblems.excerpt(i.name(), 120) + "' starts at byte " + i.begin()
                        + " but the previous one ends at " + pos + " (tensors must tile the data area without gaps or overlaps)");
            }
            pos = i.end();
        }
        if (pos != dataLen) throw new IOException(file + ": tensors cover " + pos + " bytes of a " + dataLen + "-byte data area");
        return infos;
    }

    /**
     * One tensor's entry, its fields checked one by one. Sizes are checked against the data area before they are
     * multiplied, so no product can overflow: a shape whose element count times the width wraps around to the
     * byte count given (e.g. F32 [2^62 + 1] with 4 bytes) is refused, not read.
     */
    private static Info tensorInfo(String where, String name, JsonNode v, long dataLen) throws IOException {
        if (!v.isObject()) throw new IOException(where + ": must be an object {dtype, shape, data_offsets}");
        JsonNode dt = v.get("dtype"), shape = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || !dt.isTextual()) throw new IOException(where + ": dtype missing or not a string");
        if (shape == null || !shape.isArray()) throw new IOException(where + ": shape missing or not an array");
        if (off == null || !off.isArray() || off.size() != 2) throw new IOException(where + ": data_offsets missing or not [begin, end]");
        int width = elementSize(dt.asText(), where);
        long begin = offset(off.get(0), where), end = offset(off.get(1), where);
        if (end < begin || end > dataLen) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] outside the data area of " + dataLen + " bytes");
        }
        long bytes = end - begin;
        long[] s = new long[shape.size()];
        for (int i = 0; i < s.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new IOException(where + ": bad shape " + FileProblems.excerpt(shape.toString(), 120) + " (non-negative integers expected)");
            }
            s[i] = d.asLong();
            if (s[i] > Integer.MAX_VALUE) throw new IOException(where + ": dimension " + s[i] + " of shape " + FileProblems.excerpt(shape.toString(), 120) + " is too large");
        }
        // Exact arithmetic: a product that wraps around could match the bytes given (F32 [2^62 + 1] "needs" 4).
        long count = Arrays.stream(s).anyMatch(d -> d == 0) ? 0 : 1, need;
        try {
            for (long d : s) count = Math.multiplyExact(count, d);
            need = Math.multiplyExact(count, width);
        } catch (ArithmeticException overflow) {
            need = -1;
        }
        if (need != bytes) {
            throw new IOException(where + ": " + bytes + " bytes for " + dt.asText() + " shape " + Arrays.toString(s)
                    + (need < 0 ? ", which needs more than 2^63 bytes" : ", expected " + need));
        }
        // Read through one byte array: at most 2^31 - 9 bytes (2 GiB), far above any ViT's largest tensor.
        if (bytes > Integer.MAX_VALUE - 8) throw new IOException(where + ": " + bytes + " bytes, more than one tensor may have (2 GiB)");
        return new Info(name, dt.asText(), s, begin, end);
    }

    private static long offset(JsonNode n, String where) throws IOException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw new IOException(where + ": data_offsets must be non-negative integers, got " + FileProblems.excerpt(String.valueOf(n), 40));
        }
        return n.asLong();
    }

    private static int elementSize(String dtype, String where) throws IOException {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new IOException(where + ": unsupported dtype " + FileProblems.excerpt(dtype, 20) + " (F32, F64, F16, BF16, I64, I32)");
        };
    }

    private static INDArray readTensor(SeekableByteChannel ch, Path file, long dataStart, Info i) throws IOException {
        int bytes = (int) (i.end() - i.begin());   // below 2^31, checked in tensorInfo
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, dataStart + i.begin(), file, "truncated (unexpected end of file)");
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
        if (i.shape().length == 0) return flat.reshape();
        if (n == 0) return Nd4j.create(flat.dataType(), i.shape());
        return flat.reshape('c', i.shape());
    }

    private static void readFully(SeekableByteChannel ch, ByteBuffer b, long pos, Path file, String problem) throws IOException {
        ch.position(pos);
        while (b.hasRemaining()) {
            int r = ch.read(b);
            if (r < 0) throw new IOException(file + ": " + problem);
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
