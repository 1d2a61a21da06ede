package org.mae4j.mae;

import org.junit.jupiter.api.Test;
import org.mae4j.engine.CpuKernels;
import org.mae4j.engine.Kernels;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PatchifyTest {

    /** Distinct values so that any misplaced element is caught: img[b, c, y, x] = 1000 b + 100 c + 10 y' ... made unique. */
    private static INDArray distinct(DataType dt, int n, int c, int s) {
        return Nd4j.linspace(dt, 1, (long) n * c * s * s, 1).reshape('c', n, c, s, s);
    }

    @Test
    void roundTripIsExactForOneAndThreeChannels() {
        Nd4j.getRandom().setSeed(7);
        for (int c : new int[]{1, 3}) {
            for (int[] sp : new int[][]{{8, 4}, {12, 4}, {6, 2}, {16, 16}, {5, 1}}) {
                int s = sp[0], p = sp[1];
                INDArray img = Nd4j.randn(DataType.FLOAT, 2, c, s, s);
                INDArray x = Patchify.patchify(img, p);
                assertArrayEquals(new long[]{2, (long) (s / p) * (s / p), (long) p * p * c}, x.shape(), "C=" + c + " s=" + s + " p=" + p);
                INDArray back = Patchify.unpatchify(x, p, c);
                assertArrayEquals(img.shape(), back.shape());
                assertEquals(img, back, "unpatchify(patchify(img)) for C=" + c + " s=" + s + " p=" + p);
                INDArray x2 = Nd4j.randn(DataType.DOUBLE, 3, (long) (s / p) * (s / p), (long) p * p * c);
                assertEquals(x2, Patchify.patchify(Patchify.unpatchify(x2, p, c), p), "patchify(unpatchify(x))");
            }
        }
    }

    /** Element (i*p + j)*C + c of patch r*w + q is img[c, r*p + i, q*p + j], checked for every element. */
    private static void assertTargetOrder(INDArray img, INDArray x, int p) {
        int n = (int) img.size(0), ch = (int) img.size(1), s = (int) img.size(2), w = s / p;
        assertArrayEquals(new long[]{n, (long) w * w, (long) p * p * ch}, x.shape());
        for (int b = 0; b < n; b++)
            for (int r = 0; r < w; r++)
                for (int q = 0; q < w; q++)
                    for (int i = 0; i < p; i++)
                        for (int j = 0; j < p; j++)
                            for (int c = 0; c < ch; c++) {
                                double want = img.getDouble(b, c, r * p + i, q * p + j);
                                double got = x.getDouble(b, r * w + q, (i * p + j) * ch + c);
                                if (want != got) {
                                    throw new AssertionError("b=" + b + " patch (r=" + r + ", q=" + q + ") element (i=" + i + ", j=" + j
                                            + ", c=" + c + "): expected img value " + want + ", got " + got);
                                }
                            }
    }

    @Test
    void patchVectorOrderIsRowColumnChannel() {
        for (int c : new int[]{1, 3}) {
            INDArray img = distinct(DataType.FLOAT, 2, c, 12);
            assertTargetOrder(img, Patchify.patchify(img, 4), 4);
            assertTargetOrder(img, Patchify.patchify(img, 3), 3);
        }
    }

    @Test
    void unpatchifyPlacesEveryElementByTheDefinition() {
        int n = 2, c = 3, p = 2, w = 3;
        INDArray x = Nd4j.linspace(DataType.DOUBLE, 1, (long) n * w * w * p * p * c, 1).reshape('c', n, w * w, p * p * c);
        INDArray img = Patchify.unpatchify(x, p, c);
        assertArrayEquals(new long[]{n, c, w * p, w * p}, img.shape());
        assertTargetOrder(img, x, p);
    }

    @Test
    void smallHandWorkedCase() {
        // one 2x2 image, 2 channels, p = 1: patch l = y*2 + x holds (img[0,y,x], img[1,y,x])
        INDArray img = Nd4j.createFromArray(new float[]{1, 2, 3, 4, 10, 20, 30, 40}).reshape('c', 1, 2, 2, 2);
        INDArray x = Patchify.patchify(img, 1);
        assertEquals(Nd4j.createFromArray(new float[]{1, 10, 2, 20, 3, 30, 4, 40}).reshape('c', 1, 4, 2), x);
        // one 4x4 grey image, p = 2: patch 1 is the top-right block, row-major inside the patch
        INDArray g = Nd4j.linspace(DataType.FLOAT, 0, 16, 1).reshape('c', 1, 1, 4, 4);
        INDArray y = Patchify.patchify(g, 2);
        assertEquals(Nd4j.createFromArray(new float[]{0, 1, 4, 5}), y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        assertEquals(Nd4j.createFromArray(new float[]{2, 3, 6, 7}), y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        assertEquals(Nd4j.createFromArray(new float[]{10, 11, 14, 15}), y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(3), org.nd4j.linalg.indexing.NDArrayIndex.all()));
    }

    @Test
    void patchifyDoesNotAliasItsInput() {
        INDArray img = distinct(DataType.FLOAT, 1, 3, 8);
        INDArray copy = img.dup();
        INDArray x = Patchify.patchify(img, 4);
        x.assign(-1);
        assertEquals(copy, img);
    }

    // ------------------------------------------------------------------ Kernels.patchify (the training-step version)

    /** A Kernels whose only working methods are the interface's default ones (the ND4J-op reference versions). */
    private static Kernels defaultMethodsOnly() {
        InvocationHandler h = (proxy, m, args) -> {
            if (m.isDefault()) return InvocationHandler.invokeDefault(proxy, m, args);
            throw new UnsupportedOperationException(m.getName());
        };
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class}, h);
    }

    /** Embedding input order (c, p_row, p_col): element (c*p + i)*p + j of row b*L + r*w + q is img[b, c, r*p + i, q*p + j]. */
    private static void assertEmbeddingOrder(INDArray img, INDArray cols, int p) {
        int n = (int) img.size(0), ch = (int) img.size(1), s = (int) img.size(2), w = s / p;
        for (int b = 0; b < n; b++)
            for (int r = 0; r < w; r++)
                for (int q = 0; q < w; q++)
                    for (int c = 0; c < ch; c++)
                        for (int i = 0; i < p; i++)
                            for (int j = 0; j < p; j++) {
                                double want = img.getDouble(b, c, r * p + i, q * p + j);
                                double got = cols.getDouble((long) b * w * w + r * w + q, (long) (c * p + i) * p + j);
                                if (want != got) {
                                    throw new AssertionError("b=" + b + " patch (r=" + r + ", q=" + q + ") element (c=" + c + ", i=" + i
                                            + ", j=" + j + "): expected " + want + ", got " + got);
                                }
                            }
    }

    @Test
    void kernelsPatchifyBothOrders() {
        Kernels[] impls = {new CpuKernels(1, false), new CpuKernels(), defaultMethodsOnly()};
        for (Kernels k : impls) {
            for (int c : new int[]{1, 3}) {
                int n = 2, s = 8, p = 4, l = (s / p) * (s / p), pd = p * p * c;
                INDArray img = distinct(DataType.FLOAT, n, c, s);

                INDArray target = Nd4j.create(DataType.FLOAT, (long) n * l, pd).assign(Float.NaN);
                k.patchify(img, p, target, false);
                assertTargetOrder(img, target.reshape('c', n, l, pd), p);
                assertEquals(Patchify.patchify(img, p).reshape('c', (long) n * l, pd), target, k.getClass().getSimpleName());

                INDArray cols = Nd4j.create(DataType.FLOAT, (long) n * l, pd).assign(Float.NaN);
                k.patchify(img, p, cols, true);
                assertEmbeddingOrder(img, cols, p);
                if (c == 1) assertEquals(target, cols, "with one channel both orders agree");
            }
        }
    }

    /** The embedding order matches the [D, C, p, p] convolution kernel: cols . W.reshape(D, C*p*p)^T is the convolution. */
    @Test
    void embeddingOrderMatchesTheConvolutionKernelLayout() {
        Nd4j.getRandom().setSeed(3);
        int n = 1, c = 3, s = 8, p = 4, d = 5, w = s / p;
        INDArray img = Nd4j.randn(DataType.DOUBLE, n, c, s, s);
        INDArray kernel = Nd4j.randn(DataType.DOUBLE, d, c, p, p);
        INDArray cols = Nd4j.create(DataType.DOUBLE, (long) n * w * w, (long) c * p * p);
        defaultMethodsOnly().patchify(img, p, cols, true);
        INDArray e = cols.mmul(kernel.reshape('c', d, (long) c * p * p).transpose());
        for (int r = 0; r < w; r++)
            for (int q = 0; q < w; q++)
                for (int o = 0; o < d; o++) {
                    double conv = 0;
                    for (int ch = 0; ch < c; ch++)
                        for (int i = 0; i < p; i++)
                            for (int j = 0; j < p; j++)
                                conv += kernel.getDouble(o, ch, i, j) * img.getDouble(0, ch, r * p + i, q * p + j);
                    assertEquals(conv, e.getDouble(r * w + q, o), 1e-12, "patch (" + r + ", " + q + ") output " + o);
                }
    }

    // ------------------------------------------------------------------ errors

    private static String rejected(Runnable r) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, r::run);
        return ex.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "message should mention '" + p + "': " + message);
    }

    @Test
    void badImagesAreRejectedWithTheNumbers() {
        assertMentions(rejected(() -> Patchify.patchify(Nd4j.create(DataType.FLOAT, 1, 1, 8, 12), 4)), "8", "12");
        assertMentions(rejected(() -> Patchify.patchify(Nd4j.create(DataType.FLOAT, 1, 3, 10, 10), 4)), "10", "4");
        assertMentions(rejected(() -> Patchify.patchify(Nd4j.create(DataType.FLOAT, 8, 8), 4)), Arrays.toString(new long[]{8, 8}));
        assertMentions(rejected(() -> Patchify.patchify(Nd4j.create(DataType.FLOAT, 2, 1, 8, 8, 1), 4)), Arrays.toString(new long[]{2, 1, 8, 8, 1}));
        assertMentions(rejected(() -> Patchify.patchify(Nd4j.create(DataType.FLOAT, 3, 8, 8), 4)), Arrays.toString(new long[]{3, 8, 8}));
    }

    @Test
    void badPatchRowsAreRejectedWithTheNumbers() {
        assertMentions(rejected(() -> Patchify.unpatchify(Nd4j.create(DataType.FLOAT, 4, 48), 4, 3)), Arrays.toString(new long[]{4, 48}));
        assertMentions(rejected(() -> Patchify.unpatchify(Nd4j.create(DataType.FLOAT, 1, 5, 48), 4, 3)), "5");
        assertMentions(rejected(() -> Patchify.unpatchify(Nd4j.create(DataType.FLOAT, 1, 4, 47), 4, 3)), "47", "48");
        assertMentions(rejected(() -> Patchify.unpatchify(Nd4j.create(DataType.FLOAT, 1, 4, 48), 4, 1)), "48", "16");
    }
}
