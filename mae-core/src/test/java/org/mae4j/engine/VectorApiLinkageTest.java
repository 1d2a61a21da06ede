package org.mae4j.engine;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Vector API is incubating and changes between releases (JDK 20 removed {@code fromByteBuffer} and
 * {@code intoByteBuffer}; a kernel calling them stopped with NoSuchMethodError on 21 and 25, issue 31). Like
 * {@link WithoutVectorApiTest}, this looks at the kernels from the outside: it reads the bytecode of every
 * class of org.mae4j.engine, collects each method and field of {@code jdk.incubator.vector} it refers to, and
 * checks that each one resolves on this JVM and, in a child JVM, on every other JDK 17 or newer installed under
 * /usr/lib/jvm (the CI runs the suite on 17 and 25; this catches a kernel that links on one and not the other).
 */
class VectorApiLinkageTest {

    private static final String API = "jdk/incubator/vector/";

    /** The child: prints each unresolved reference on a line of its own, then "checked N". */
    public static void main(String[] args) throws Exception {
        List<String> refs = vectorApiReferences();
        for (String missing : unresolved(refs)) System.out.println("missing " + missing);
        System.out.println("checked " + refs.size());
    }

    @Test
    void everyVectorApiMemberTheKernelsUseExistsOnThisJdk() throws Exception {
        assertTrue(VectorSupport.available(), "this JVM (surefire) is expected to have the Vector API");
        List<String> refs = vectorApiReferences();
        // VectorLoops and VectorGemm alone use dozens; a scan that finds none has read nothing
        assertTrue(refs.size() > 20, "found only " + refs.size() + " Vector API references: " + refs);
        assertEquals(List.of(), unresolved(refs), "Vector API members the kernels use that Java "
                + Runtime.version() + " lacks");
    }

    @Test
    void everyVectorApiMemberTheKernelsUseExistsOnEveryOtherInstalledJdk() throws Exception {
        Path self = Path.of(System.getProperty("java.home")).toRealPath();
        List<Path> jdks = new ArrayList<>();
        Path jvm = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvm)) {
            try (Stream<Path> s = Files.list(jvm)) {
                for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                    Path java = p.resolve("bin/java");
                    if (!Files.isExecutable(java) || p.toRealPath().equals(self) || jdks.stream().anyMatch(q -> sameJdk(q, p))) continue;
                    if (featureVersion(p) >= 17) jdks.add(p);
                }
            }
        }
        for (Path jdk : jdks) {
            List<String> cmd = List.of(jdk.resolve("bin/java").toString(), "-Xmx256m", "--add-modules", "jdk.incubator.vector",
                    "-cp", System.getProperty("java.class.path"), VectorApiLinkageTest.class.getName());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try {
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), jdk + ": child JVM did not finish in 60 s");
            } finally {
                out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.destroyForcibly();
            }
            assertEquals(0, p.exitValue(), jdk + ": child JVM failed:\n" + out);
            List<String> missing = out.lines().filter(l -> l.startsWith("missing ")).toList();
            assertTrue(out.lines().anyMatch(l -> l.startsWith("checked ")), jdk + ": no result line in:\n" + out);
            assertEquals(List.of(), missing, "Vector API members the kernels use that " + jdk + " lacks");
        }
    }

    private static boolean sameJdk(Path a, Path b) {
        try { return a.toRealPath().equals(b.toRealPath()); } catch (IOException e) { return false; }
    }

    /** The JDK's feature release from its release file (JAVA_VERSION="17.0.15"), or 0 when it has none. */
    private static int featureVersion(Path jdk) throws IOException {
        Path release = jdk.resolve("release");
        if (!Files.isRegularFile(release)) return 0;
        for (String line : Files.readAllLines(release)) {
            if (line.startsWith("JAVA_VERSION=")) {
                String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                return Integer.parseInt(v.split("[.+-]")[0]);
            }
        }
        return 0;
    }

    /** "owner.name descriptor" for every method and field of jdk.incubator.vector the engine classes refer to, sorted. */
    static List<String> vectorApiReferences() throws IOException, URISyntaxException {
        Path root = Path.of(CpuKernels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        TreeSet<String> refs = new TreeSet<>();
        Path pkg = root.resolve("org/mae4j/engine");
        assertTrue(Files.isDirectory(pkg), "expected the engine classes in a directory, got " + root);
        try (Stream<Path> s = Files.list(pkg)) {
            for (Path c : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".class"))::iterator) {
                try (InputStream in = Files.newInputStream(c)) { refs.addAll(references(in.readAllBytes())); }
            }
        }
        return new ArrayList<>(refs);
    }

    /** The jdk.incubator.vector field and method references in one class file's constant pool. */
    static List<String> references(byte[] classFile) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(classFile));
        if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        in.readUnsignedShort();
        in.readUnsignedShort();
        int n = in.readUnsignedShort();
        String[] utf8 = new String[n];
        int[] tag = new int[n], first = new int[n], second = new int[n];
        for (int i = 1; i < n; i++) {
            tag[i] = in.readUnsignedByte();
            switch (tag[i]) {
                case 1 -> utf8[i] = in.readUTF();
                case 3, 4 -> in.readInt();
                case 5, 6 -> { in.readLong(); i++; }                          // two slots
                case 7, 8, 16, 19, 20 -> first[i] = in.readUnsignedShort();   // Class, String, MethodType, Module, Package
                case 9, 10, 11, 12, 17, 18 -> { first[i] = in.readUnsignedShort(); second[i] = in.readUnsignedShort(); }
                case 15 -> { in.readUnsignedByte(); in.readUnsignedShort(); }  // MethodHandle
                default -> throw new IOException("constant pool tag " + tag[i] + " at " + i);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (tag[i] != 9 && tag[i] != 10 && tag[i] != 11) continue;       // Fieldref, Methodref, InterfaceMethodref
            String owner = utf8[first[first[i]]];
            if (!owner.startsWith(API)) continue;
            int nat = second[i];
            out.add((tag[i] == 9 ? "field " : "method ") + owner.replace('/', '.') + "." + utf8[first[nat]] + " " + utf8[second[nat]]);
        }
        return out;
    }

    /** The references (as vectorApiReferences writes them) that do not resolve on this JVM. */
    static List<String> unresolved(List<String> refs) {
        List<String> missing = new ArrayList<>();
        for (String r : refs) if (!resolves(r)) missing.add(r);
        return missing;
    }

    private static boolean resolves(String ref) {
        String[] p = ref.split(" ");
        int dot = p[1].lastIndexOf('.');
        String owner = p[1].substring(0, dot), name = p[1].substring(dot + 1), descriptor = p[2];
        try {
            Class<?> c = Class.forName(owner, false, VectorApiLinkageTest.class.getClassLoader());
            if (p[0].equals("field")) {
                for (Class<?> k = c; k != null; k = k.getSuperclass()) {
                    for (Field f : k.getDeclaredFields()) if (f.getName().equals(name) && f.getType().descriptorString().equals(descriptor)) return true;
                }
                return false;
            }
            // public methods, inherited ones included: every call site in the kernels is on the public API
            for (Method m : c.getMethods()) {
                if (m.getName().equals(name) && MethodType.methodType(m.getReturnType(), m.getParameterTypes()).toMethodDescriptorString().equals(descriptor)) return true;
            }
            return false;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
