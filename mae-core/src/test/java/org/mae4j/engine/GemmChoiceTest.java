package org.mae4j.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The per-shape gemm choice without timing anything: measurements are injected, so every expected path follows
 * from the rule (Java only when more than 5% faster) and the tests are exact and fast.
 */
class GemmChoiceTest {

    private static final GemmCache.Identity ID = new GemmCache.Identity("Test CPU 9000", "amd64", 2, "OpenBLAS 0.3.19, OPENBLAS_CORETYPE=unset", "test", "abcd1234");

    /** Shapes with the paths the rule must give them. */
    private static final GemmChoice.Shape FWD = new GemmChoice.Shape(2048, 576, 192, false, true);    // Java 2x faster -> java
    private static final GemmChoice.Shape DX = new GemmChoice.Shape(2048, 192, 576, false, false);    // Java 3% faster: a tie -> openblas
    private static final GemmChoice.Shape DW = new GemmChoice.Shape(576, 192, 2048, true, false);     // OpenBLAS faster -> openblas
    private static final GemmChoice.Shape SMALL = new GemmChoice.Shape(7, 33, 5, false, false);      // Java 10% faster -> java
    private static final GemmChoice.Shape SMALL_T = new GemmChoice.Shape(7, 33, 5, true, false);     // OpenBLAS 2x faster -> openblas
    private static final Map<GemmChoice.Shape, GemmChoice.Measurement> TIMES = Map.of(
            SMALL_T, new GemmChoice.Measurement(200, 100, 5),
            FWD, new GemmChoice.Measurement(1000, 2000, 9),
            DX, new GemmChoice.Measurement(1000, 1030, 9),
            DW, new GemmChoice.Measurement(1500, 1000, 9),
            SMALL, new GemmChoice.Measurement(100, 110, 15));
    private static final Map<String, String> EXPECTED = Map.of(FWD.key(), "java", DX.key(), "openblas", DW.key(), "openblas", SMALL.key(), "java");

    private static final GemmChoice.Runner NO_RUNNER = (java, a, ta, b, tb, c) -> fail("nothing may be timed in these tests");

    @AfterEach
    void clearOverrides() {
        GemmChoice.force(null);
        System.clearProperty(GemmChoice.PROPERTY);
        System.clearProperty(GemmChoice.CACHE_PROPERTY);
        GemmChoice.resetShared();
    }

    private static GemmChoice.Measurer injected(AtomicInteger calls) {
        return (s, r) -> {
            calls.incrementAndGet();
            GemmChoice.Measurement m = TIMES.get(s);
            assertNotNull(m, "no injected time for " + s.key());
            return m;
        };
    }

    private static Map<String, String> decideAll(GemmChoice c) {
        Map<String, String> out = new HashMap<>();
        for (GemmChoice.Shape s : List.of(FWD, DX, DW, SMALL)) out.put(s.key(), c.decide(s, NO_RUNNER).path().label());
        return out;
    }

    @Test
    void theRuleKeepsOpenBlasWithinTheMargin() {
        assertEquals(GemmChoice.GemmPathName.JAVA, GemmChoice.decide(new GemmChoice.Measurement(100, 106, 5)));
        assertEquals(GemmChoice.GemmPathName.OPENBLAS, GemmChoice.decide(new GemmChoice.Measurement(100, 104, 5)));
        assertEquals(GemmChoice.GemmPathName.OPENBLAS, GemmChoice.decide(new GemmChoice.Measurement(100, 100, 5)));
        assertEquals(GemmChoice.GemmPathName.OPENBLAS, GemmChoice.decide(new GemmChoice.Measurement(120, 100, 5)));
    }

    @Test
    void shapeKeysRoundTripAndBadKeysAreNamed() {
        for (GemmChoice.Shape s : List.of(FWD, DX, DW, SMALL)) assertEquals(s, GemmChoice.Shape.parse(s.key()));
        assertEquals("M2048 N576 K192 NT", FWD.key());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmChoice.Shape.parse("M2048 N576 K192"));
        assertTrue(e.getMessage().contains("M2048 N576 K192"), e.getMessage());
    }

    @Test
    void theSameCachedMeasurementGivesTheSamePathsWithoutMeasuring(@TempDir Path dir) throws Exception {
        AtomicInteger first = new AtomicInteger();
        GemmChoice measured = GemmChoice.perShape(new GemmCache(dir, ID), injected(first));
        assertEquals(EXPECTED, decideAll(measured));
        assertEquals(4, first.get(), "each new shape is measured once");
        assertEquals(EXPECTED, decideAll(measured));
        assertEquals(4, first.get(), "a known shape is not measured again");
        assertEquals(GemmChoice.Source.MEASURED, measured.decide(FWD, NO_RUNNER).source());

        // two later starts: both read the file, neither measures, both route every shape the same way
        for (int start = 0; start < 2; start++) {
            AtomicInteger later = new AtomicInteger();
            GemmChoice cached = GemmChoice.perShape(new GemmCache(dir, ID), injected(later));
            assertEquals(EXPECTED, cached.knownPaths(), "start " + start + " before any product");
            assertEquals(EXPECTED, decideAll(cached), "start " + start);
            assertEquals(0, later.get(), "start " + start + " measured although the cache had every shape");
            assertEquals(GemmChoice.Source.CACHED, cached.decide(DW, NO_RUNNER).source());
        }
        JsonNode file = new ObjectMapper().readTree(new GemmCache(dir, ID).file().toFile());
        assertEquals("java", file.get("products").get(FWD.key()).get("path").asText(), file.toString());
        assertEquals(2000.0, file.get("products").get(FWD.key()).get("openblas_ns").asDouble(), file.toString());
    }

    @Test
    void anotherMachineOrKernelBuildGetsItsOwnFile(@TempDir Path dir) {
        GemmCache.Identity rebuilt = new GemmCache.Identity(ID.cpu(), ID.arch(), ID.processors(), ID.openblas(), ID.mae4j(), "ffff0000");
        GemmCache.Identity bigger = new GemmCache.Identity(ID.cpu(), ID.arch(), 16, ID.openblas(), ID.mae4j(), ID.kernels());
        assertNotEquals(ID.fileName(), rebuilt.fileName());
        assertNotEquals(ID.fileName(), bigger.fileName());
        assertTrue(ID.fileName().matches("gemm-choice-[0-9a-f]{12}-test-abcd1234\\.json"), ID.fileName());
    }

    @Test
    void aCorruptCacheIsIgnoredAndRewritten(@TempDir Path dir) throws Exception {
        GemmCache cache = new GemmCache(dir, ID);
        Files.writeString(cache.file(), "{\"format\": 1, \"products\": {\"M2048 N5");
        AtomicInteger calls = new AtomicInteger();
        GemmChoice c = GemmChoice.perShape(cache, injected(calls));
        assertNotNull(cache.status(), "the corrupt file must be reported");
        assertTrue(cache.status().contains("ignored"), cache.status());
        // rewritten at once as a valid, empty cache
        JsonNode fresh = new ObjectMapper().readTree(cache.file().toFile());
        assertEquals(GemmCache.FORMAT, fresh.get("format").asInt());
        assertEquals(0, fresh.get("products").size(), fresh.toString());
        assertEquals(EXPECTED, decideAll(c));
        assertEquals(4, calls.get());
        JsonNode after = new ObjectMapper().readTree(cache.file().toFile());
        assertEquals(4, after.get("products").size(), after.toString());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(cache.file()), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void aCacheOfAnotherMachineIsIgnoredAndRewritten(@TempDir Path dir) throws Exception {
        GemmCache other = new GemmCache(dir, new GemmCache.Identity("Other CPU", "amd64", 2, ID.openblas(), ID.mae4j(), ID.kernels()));
        GemmChoice.perShape(other, injected(new AtomicInteger())).decide(FWD, NO_RUNNER);
        // the other machine's file, copied under this machine's name
        GemmCache mine = new GemmCache(dir, ID);
        Files.copy(other.file(), mine.file());
        AtomicInteger calls = new AtomicInteger();
        GemmChoice c = GemmChoice.perShape(mine, injected(calls));
        assertTrue(mine.status() != null && mine.status().contains("another machine"), String.valueOf(mine.status()));
        assertEquals(Map.of(), c.knownPaths(), "nothing of the foreign file may be used");
        c.decide(FWD, NO_RUNNER);
        assertEquals(1, calls.get());
        assertEquals("Test CPU 9000", new ObjectMapper().readTree(mine.file().toFile()).get("identity").get("cpu").asText());
    }

    @Test
    void overridesWinOverTheCacheInOrder() {
        Map<String, String> env = new HashMap<>();
        assumeTrue(VectorSupport.available(), "needs --add-modules jdk.incubator.vector (set for the tests in the pom)");
        env.put(GemmChoice.ENV, "openblas");
        assertEquals("openblas (MAE4J_GEMM=openblas)", GemmChoice.forKernels(CpuKernels.GemmPath.AUTO, true, env::get).mode());
        System.setProperty(GemmChoice.PROPERTY, "java");
        assertEquals("java (-Dmae4j.gemm=java)", GemmChoice.forKernels(CpuKernels.GemmPath.AUTO, true, env::get).mode(), "the property beats the environment");
        GemmChoice.force("blas");
        assertEquals("openblas (--gemm=blas)", GemmChoice.forKernels(CpuKernels.GemmPath.AUTO, true, env::get).mode(), "--gemm beats the property");
        assertEquals("java (requested)", GemmChoice.forKernels(CpuKernels.GemmPath.JAVA, true, env::get).mode(), "the constructor's path beats --gemm");
        GemmChoice.force("auto");
        System.setProperty(GemmChoice.PROPERTY, "auto");
        env.put(GemmChoice.ENV, "auto");
        assertTrue(GemmChoice.forKernels(CpuKernels.GemmPath.AUTO, true, env::get).mode().startsWith(VectorGemm.worthIt() ? "auto" : "openblas"));
        env.put(GemmChoice.ENV, "fast");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmChoice.forKernels(CpuKernels.GemmPath.AUTO, true, env::get));
        assertEquals("MAE4J_GEMM must be java, openblas or auto, got 'fast'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GemmChoice.force("gpu"));
    }

    @Test
    void theOverrideWinsOverACachedChoiceInRealKernels(@TempDir Path dir) {
        assumeTrue(VectorSupport.available() && VectorGemm.worthIt(), "the per-shape choice needs 512-bit vectors");
        // a cache for this very machine that sends SMALL to the Java kernel and SMALL_T to OpenBLAS
        System.setProperty(GemmChoice.CACHE_PROPERTY, dir.toString());
        GemmChoice.resetShared();
        GemmCache cache = GemmCache.forThisMachine(dir);
        cache.add(SMALL, TIMES.get(SMALL));
        cache.add(SMALL_T, TIMES.get(SMALL_T));
        System.setProperty(GemmChoice.PROPERTY, "openblas");
        CpuKernels forced = new CpuKernels(2, true);
        runProduct(forced, SMALL);
        assertEquals(Map.of(SMALL.key(), "openblas"), forced.gemmPaths());
        assertEquals("openblas (-Dmae4j.gemm=openblas, 1 products)", forced.gemmSummary());

        System.setProperty(GemmChoice.PROPERTY, "java");
        CpuKernels java = new CpuKernels(2, true);
        runProduct(java, SMALL_T);
        assertEquals(Map.of(SMALL_T.key(), "java"), java.gemmPaths());

        System.clearProperty(GemmChoice.PROPERTY);
        CpuKernels auto = new CpuKernels(2, true);
        runProduct(auto, SMALL);
        runProduct(auto, SMALL_T);
        assertEquals(Map.of(SMALL.key(), "java", SMALL_T.key(), "openblas"), auto.gemmPaths(), "without an override the cache decides");
        assertEquals("mixed: java 1, openblas 1 (auto, 2 products: 2 cached)", auto.gemmSummary());
        assertEquals(auto.gemmSummary(), GemmChoice.describe(new ProfilingKernels(auto)));
        assertEquals(auto.gemmPaths(), GemmChoice.products(auto));
        assertEquals("nd4j (portable kernels)", GemmChoice.describe(new Nd4jKernels()));
    }

    @Test
    void productsAreRightOnWhicheverPathTheChoiceGives(@TempDir Path dir) {
        assumeTrue(VectorSupport.available());
        // SMALL goes to the Java kernel, SMALL_T to OpenBLAS: both must compute c = op(a) b
        GemmChoice c = GemmChoice.perShape(new GemmCache(dir, ID), (s, r) -> TIMES.get(s));
        CpuKernels k = new CpuKernels(2, true, c);
        for (boolean ta : new boolean[] {false, true}) {
            java.util.Random r = new java.util.Random(ta ? 1 : 2);
            INDArray a = Nd4j.createFromArray(floats(r, 35)).reshape(ta ? new long[] {5, 7} : new long[] {7, 5});
            INDArray b = Nd4j.createFromArray(floats(r, 5 * 33)).reshape(5, 33);
            INDArray out = Nd4j.create(DataType.FLOAT, 7, 33);
            k.gemm(a, ta, b, false, out, 1, 0);
            INDArray want = (ta ? a.transpose() : a).mmul(b);
            assertTrue(want.equalsWithEps(out, 1e-4), "transA=" + ta + ": " + out + " vs " + want);
        }
        assertEquals(Map.of(SMALL.key(), "java", SMALL_T.key(), "openblas"), k.gemmPaths());
    }

    private static float[] floats(java.util.Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private static void runProduct(CpuKernels k, GemmChoice.Shape s) {
        INDArray a = Nd4j.ones(DataType.FLOAT, s.transA() ? new long[] {s.k(), s.m()} : new long[] {s.m(), s.k()});
        INDArray b = Nd4j.ones(DataType.FLOAT, s.transB() ? new long[] {s.n(), s.k()} : new long[] {s.k(), s.n()});
        INDArray c = Nd4j.create(DataType.FLOAT, s.m(), s.n());
        k.gemm(a, s.transA(), b, s.transB(), c, 1, 0);
        assertEquals(s.k(), c.getDouble(s.m() - 1, s.n() - 1), 1e-3, "sum of k ones");
    }
}
