package org.mae4j.embed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.config.VitSpec;
import org.mae4j.data.EvalTransform;
import org.mae4j.engine.ParamStore;
import org.mae4j.io.Checkpoint;
import org.mae4j.io.NpyWeights;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PositionTables;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link Embedder}: picture conversion, threads, other image sizes, where normalization comes from, bad input. */
class EmbedderTest {

    /** A 28 px grey model small enough for many calls: patch 4 (7 x 7 grid), encoder 32 x 2 x 2. */
    private static final MaeConfig GREY28 = new MaeConfig(28, 4, 1, new VitSpec(32, 2, 2, 4), new VitSpec(16, 1, 2, 4), 0.75, false, 1e-6);

    private static MaskedAutoencoder model(MaeConfig cfg, long seed) {
        return MaskedAutoencoder.create(cfg, new Random(seed));
    }

    /** N(0, 1) floats of the given shape from a seeded generator. */
    private static INDArray gaussian(long seed, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Nd4j.create(v, shape, DataType.FLOAT);
    }

    private static Embedder embedder(MaeConfig cfg, long seed) {
        return Embedder.of(cfg, model(cfg, seed).params(), Normalization.defaultFor(cfg.channels()));
    }

    // ------------------------------------------------------------------ picture conversion

    /**
     * Pillow's antialiased bilinear resize of the box [x0, x0+side)^2 of a w x h plane to size x size, written
     * as the direct double sum it is: output o's centre maps to c = x0 + (o + 0.5) side/size, source pixel k
     * (centre k + 0.5) weighs max(0, 1 - |k + 0.5 - c| / max(side/size, 1)), weights normalised per output.
     */
    private static double[] naiveResize(double[] plane, int w, int h, double x0, double y0, double side, int size) {
        double scale = side / size, fs = Math.max(scale, 1);
        double[][] wx = new double[size][w], wy = new double[size][h];
        for (int o = 0; o < size; o++) {
            double cx = x0 + (o + 0.5) * scale, cy = y0 + (o + 0.5) * scale, sx = 0, sy = 0;
            for (int k = 0; k < w; k++) sx += wx[o][k] = Math.max(0, 1 - Math.abs(k + 0.5 - cx) / fs);
            for (int k = 0; k < h; k++) sy += wy[o][k] = Math.max(0, 1 - Math.abs(k + 0.5 - cy) / fs);
            for (int k = 0; k < w; k++) wx[o][k] /= sx;
            for (int k = 0; k < h; k++) wy[o][k] /= sy;
        }
        double[] out = new double[size * size];
        for (int oy = 0; oy < size; oy++) {
            for (int ox = 0; ox < size; ox++) {
                double acc = 0;
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) acc += wy[oy][y] * wx[ox][x] * plane[y * w + x];
                out[oy * size + ox] = acc;
            }
        }
        return out;
    }

    private static BufferedImage randomRgb(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        return img;
    }

    private static void assertClose(String what, double[] want, float[] got, double tol) {
        assertEquals(want.length, got.length, what + ": length");
        double worst = -1;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(want[i] - got[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        if (!(worst <= tol)) fail(what + ": worst element " + at + ": want " + want[at] + ", got " + got[at] + " (|diff| " + worst + " > " + tol + ")");
    }

    /**
     * Vectors equal up to float rounding: max|got - want| <= rtol * max|want| per vector. Not bit equality: the
     * Vector API kernels sum lanes (reduceLanes) in another order once C2 has compiled them, so even two calls
     * on the same batch can differ in the last bits (measured: ~6e-7 relative).
     */
    static void assertVectorsClose(String what, float[][] want, float[][] got, double rtol) {
        assertEquals(want.length, got.length, what + ": count");
        for (int i = 0; i < want.length; i++) {
            double max = 0, worst = -1;
            int at = -1;
            for (int c = 0; c < want[i].length; c++) {
                max = Math.max(max, Math.abs(want[i][c]));
                double d = Math.abs(want[i][c] - got[i][c]);
                if (!(d <= worst)) { worst = d; at = c; }
            }
            if (!(worst <= rtol * max)) {
                fail(what + ", vector " + i + ": worst component " + at + ": want " + want[i][at] + ", got " + got[i][at]
                        + " (|diff| " + worst + " > " + rtol + " * " + max + ")");
            }
        }
    }

    @Test
    void rgbPictureEqualsItsLuminanceResizedAndNormalised() {
        BufferedImage rgb = randomRgb(40, 40, 1);
        double[] lum = new double[40 * 40];
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 40; x++) {
                int v = rgb.getRGB(x, y);
                lum[y * 40 + x] = (0.299 * ((v >> 16) & 0xff) + 0.587 * ((v >> 8) & 0xff) + 0.114 * (v & 0xff)) / 255.0;
            }
        }
        // 28 < 64: the whole (square) picture is resized to 28 x 28, then (x - 0.2860) / 0.3530.
        double[] grey = naiveResize(lum, 40, 40, 0, 0, 40, 28);
        for (int i = 0; i < grey.length; i++) grey[i] = (grey[i] - 0.2860f) / 0.3530f;

        Embedder e = embedder(GREY28, 5);
        float[] converted = new float[28 * 28];
        new EvalTransform(28, e.normalization()).apply(rgb, converted, 0);
        assertClose("converted pixels", grey, converted, 2e-6);

        float[] viaPicture = e.embed(rgb);
        float[] viaArray = e.embed(Nd4j.createFromArray(grey).castTo(DataType.FLOAT).reshape(1, 1, 28, 28))[0];
        double[] want = new double[viaArray.length];
        for (int i = 0; i < want.length; i++) want[i] = viaArray[i];
        assertClose("embedding of the picture vs of the array", want, viaPicture, 1e-4);
    }

    @Test
    void largeSizesResizeTheShorterSideToSizeOverCropPctThenCropTheCentre() {
        BufferedImage rgb = randomRgb(100, 80, 2);
        int size = 64, resized = 73;                      // floor(64 / 0.875) = 73
        double side = 80.0 * size / resized;               // the source square that becomes the 64 x 64 output
        Normalization norm = Normalization.imagenet();
        float[] got = new float[3 * size * size];
        new EvalTransform(size, norm).apply(rgb, got, 0);
        float[] mean = norm.mean(), std = norm.std();
        for (int c = 0; c < 3; c++) {
            double[] plane = new double[100 * 80];
            for (int y = 0; y < 80; y++) for (int x = 0; x < 100; x++) plane[y * 100 + x] = ((rgb.getRGB(x, y) >> (16 - 8 * c)) & 0xff) / 255.0;
            double[] want = naiveResize(plane, 100, 80, (100 - side) / 2, (80 - side) / 2, side, size);
            for (int i = 0; i < want.length; i++) want[i] = (want[i] - mean[c]) / std[c];
            float[] gotPlane = new float[size * size];
            System.arraycopy(got, c * size * size, gotPlane, 0, gotPlane.length);
            assertClose("channel " + c, want, gotPlane, 1e-5);
        }
    }

    @Test
    void smallSizesResizeTheShorterSideToSizeAndCropTheCentre() {
        BufferedImage rgb = randomRgb(50, 40, 3);       // 28 < 64: the centred 40 x 40 square (x from 5 to 45) -> 28 x 28
        Normalization norm = Normalization.imagenet();
        float[] got = new float[3 * 28 * 28];
        new EvalTransform(28, norm).apply(rgb, got, 0);
        for (int c = 0; c < 3; c++) {
            double[] plane = new double[50 * 40];
            for (int y = 0; y < 40; y++) for (int x = 0; x < 50; x++) plane[y * 50 + x] = ((rgb.getRGB(x, y) >> (16 - 8 * c)) & 0xff) / 255.0;
            double[] want = naiveResize(plane, 50, 40, 5, 0, 40, 28);
            for (int i = 0; i < want.length; i++) want[i] = (want[i] - norm.mean()[c]) / norm.std()[c];
            float[] gotPlane = new float[28 * 28];
            System.arraycopy(got, c * 28 * 28, gotPlane, 0, gotPlane.length);
            assertClose("channel " + c, want, gotPlane, 1e-5);
        }
    }

    @Test
    void greyPictureFeedsAnRgbModelThreeEqualPlanes() {
        BufferedImage grey = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) grey.getRaster().setSample(x, y, 0, (x * 16 + y) & 0xff);
        Normalization norm = Normalization.imagenet();
        float[] got = new float[3 * 16 * 16];
        new EvalTransform(16, norm).apply(grey, got, 0);
        float[] mean = norm.mean(), std = norm.std();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    float want = (((x * 16 + y) & 0xff) / 255f - mean[c]) / std[c];   // same size: no resampling
                    assertEquals(want, got[c * 256 + y * 16 + x], 1e-6, "channel " + c + " pixel (" + y + "," + x + ")");
                }
            }
        }
    }

    // ------------------------------------------------------------------ threads

    @Test
    void eightThreadsGiveTheSingleThreadedVectors() throws Exception {
        Embedder e = embedder(GREY28, 7).withBatchSize(16);
        Embedder mean = e.withPooling(Embedder.Pooling.MEAN);
        INDArray images = gaussian(3, 64, 1, 28, 28);
        float[][] cls1 = e.embed(images), mean1 = mean.embed(images);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<float[][]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Embedder mine = t % 2 == 0 ? e : mean;     // both poolings over the same parameters at once
                // Each thread sees the images in another order (rotated by 8t), so activations shared by mistake
                // would hand a thread another image's vector, far outside float rounding.
                INDArray rotated = Nd4j.concat(0, images.get(NDArrayIndex.interval(8 * t, 64)), images.get(NDArrayIndex.interval(0, 8 * t)));
                INDArray mineImages = t == 0 ? images : rotated;
                results.add(pool.submit(() -> {
                    start.await();
                    float[][] out = null;
                    for (int rep = 0; rep < 3; rep++) out = mine.embed(mineImages);
                    return out;
                }));
            }
            start.countDown();
            for (int t = 0; t < threads; t++) {
                float[][] got = results.get(t).get(), want = new float[64][];
                float[][] single = t % 2 == 0 ? cls1 : mean1;
                for (int i = 0; i < 64; i++) want[i] = single[(i + 8 * t) % 64];
                // per-thread activations: a shared one would hand a thread another image's vector, far outside
                // rounding. Not bit for bit: where GemmChoice routes a shape to OpenBLAS, its kernels round a row by
                // its position in the batch (measured on an AMD EPYC host: 6e-8 relative)
                assertVectorsClose("thread " + t, want, got, 1e-6);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void resultsAreTheCallersCopies() {
        Embedder e = embedder(GREY28, 7);
        INDArray images = gaussian(4, 2, 1, 28, 28);
        float[][] a = e.embed(images);
        float[][] keep = {a[0].clone(), a[1].clone()};
        a[0][0] = 1e9f;
        float[][] b = e.embed(images);
        assertNotSame(a[0], b[0]);
        assertVectorsClose("after the caller changed its copy", keep, b, 0);
        assertEquals(GREY28.encoder().width(), e.dimension());
    }

    // ------------------------------------------------------------------ other image sizes

    @Test
    void modelPretrainedAt28EmbedsAt36WithTheRegeneratedSinCosTable() {
        MaskedAutoencoder at28 = model(GREY28, 11);
        Embedder e = Embedder.of(GREY28, at28.params(), Normalization.fashionMnist()).withImageSize(36);
        assertEquals(36, e.imageSize());
        // The same weights in a model built at 36 px: MaeInit gives it the 9 x 9 sin-cos table.
        MaeConfig c36 = GREY28.withImageSize(36);
        MaskedAutoencoder at36 = model(c36, 99);
        copyAllButPositionTables(at28.params(), at36.params());
        INDArray images = gaussian(5, 3, 1, 36, 36);
        float[] tokens = at36.encode(images).dup('c').data().asFloat();
        float[][] got = e.embed(images);
        int d = GREY28.encoder().width(), t = 1 + c36.numPatches();
        float[][] want = new float[3][d];
        for (int b = 0; b < 3; b++) System.arraycopy(tokens, b * t * d, want[b], 0, d);
        assertVectorsClose("cls rows of encode() at 36 px", want, got, 1e-5);
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> e.embed(Nd4j.rand(DataType.FLOAT, 1, 1, 28, 28)));
        assertTrue(wrong.getMessage().contains("withImageSize(28)"), wrong.getMessage());
        IllegalArgumentException notMultiple = assertThrows(IllegalArgumentException.class, () -> e.withImageSize(30));
        assertTrue(notMultiple.getMessage().contains("28 or 32"), notMultiple.getMessage());
    }

    @Test
    void learnedTablesAreResampledBicubically() {
        MaskedAutoencoder at28 = model(GREY28, 12);
        INDArray learned = at28.params().param("pos_embed").add(gaussian(6, 1, 50, 32).mul(0.1));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (ParamStore.Entry en : at28.params().entries()) tensors.put(en.name(), at28.params().param(en.name()));
        tensors.put("pos_embed", learned);
        Embedder e = Embedder.of(GREY28, tensors, Normalization.fashionMnist()).withImageSize(20).withImageSize(36);
        MaeConfig c36 = GREY28.withImageSize(36);
        MaskedAutoencoder at36 = model(c36, 98);
        copyAllButPositionTables(at28.params(), at36.params());
        // From the weights' own 7 x 7 table, not from the 5 x 5 one in between.
        at36.params().set("pos_embed", PositionTables.resampleBicubic(learned, 9));
        INDArray images = gaussian(8, 2, 1, 36, 36);
        float[] tokens = at36.encode(images).dup('c').data().asFloat();
        float[][] got = e.embed(images);
        int d = 32, t = 82;
        float[][] want = new float[2][d];
        for (int b = 0; b < 2; b++) System.arraycopy(tokens, b * t * d, want[b], 0, d);
        assertVectorsClose("cls rows of encode() with the resampled table", want, got, 1e-5);
    }

    @Test
    void absurdImageSizesAreRefusedBeforeAnyAllocation() {
        Embedder e = embedder(GREY28, 1);
        // 100000 px crashed the JVM (SIGSEGV) building the position table, 8192 px overflowed the batch's int size
        for (int px : new int[] {100000, 8192}) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.withImageSize(px));
            assertTrue(x.getMessage().startsWith("image size " + px + " px: ") && x.getMessage().endsWith("use a smaller image size or batch"),
                    x.getMessage());
        }
        // a batch is checked at the size it is built: never larger than the images given
        assertEquals(e.dimension(), e.withBatchSize(2_000_000_000).embed(randomRgb(28, 28, 3)).length);
        Embedder big = e.withImageSize(240);   // one image fits; 64 of them in one batch do not (their attention scores)
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> big.embed(java.util.Collections.nCopies(64, randomRgb(28, 28, 4))));
        assertTrue(x.getMessage().startsWith("image size 240 px in batches of 64: "), x.getMessage());
        assertEquals(56, e.withImageSize(56).imageSize(), "a sane size still works");
    }

    private static void copyAllButPositionTables(ParamStore from, ParamStore to) {
        for (ParamStore.Entry en : from.entries()) if (!en.name().endsWith("pos_embed")) to.set(en.name(), from.param(en.name()));
    }

    // ------------------------------------------------------------------ where normalization and size come from

    @Test
    void checkpointSuppliesConfigAndNormalization(@TempDir Path dir) throws IOException {
        MaskedAutoencoder m = model(GREY28, 13);
        Path ckpt = dir.resolve("c.zip");
        Checkpoint.save(ckpt, Checkpoint.Contents.weights("pretrain", m.config(), Map.of(), new Normalization(new float[] {0.5f}, new float[] {0.25f}), m.params(), Map.of()));
        Embedder e = Embedder.load(ckpt);
        assertEquals(new Normalization(new float[] {0.5f}, new float[] {0.25f}), e.normalization());
        assertEquals(28, e.imageSize());
        assertEquals(Embedder.Pooling.CLS, e.pooling());
        // The caller's normalization is a fallback only: the checkpoint's wins.
        assertEquals(e.normalization(), Embedder.load(ckpt, null, new Normalization(new float[] {0.1f}, new float[] {0.9f})).normalization());

        Path bare = dir.resolve("bare.zip");
        Checkpoint.save(bare, Checkpoint.Contents.weights("pretrain", m.config(), Map.of(), null, m.params(), Map.of()));
        assertEquals(Normalization.fashionMnist(), Embedder.load(bare).normalization(), "no record: the channel default");
    }

    @Test
    void huggingFacePreprocessorConfigSuppliesMeanStdAndSize(@TempDir Path dir) throws IOException {
        MaskedAutoencoder m = model(GREY28, 14);
        NpyWeights.save(m.params(), dir);
        Files.writeString(dir.resolve("preprocessor_config.json"),
                "{\"image_mean\": [0.5], \"image_std\": [0.2], \"do_resize\": true, \"size\": {\"height\": 32, \"width\": 32}}");
        Embedder e = Embedder.load(dir, GREY28, Normalization.fashionMnist());
        assertEquals(new Normalization(new float[] {0.5f}, new float[] {0.2f}), e.normalization());
        assertEquals(32, e.imageSize());
        Files.writeString(dir.resolve("preprocessor_config.json"), "{\"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.2, 0.2, 0.2]}");
        IOException three = assertThrows(IOException.class, () -> Embedder.load(dir, GREY28, null));
        assertTrue(three.getMessage().contains("3 values") && three.getMessage().contains("1 channels"), three.getMessage());
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badFilesAndListsGiveClearErrors(@TempDir Path dir) throws IOException {
        Embedder e = embedder(GREY28, 15);
        Path good = dir.resolve("good.png");
        ImageIO.write(randomRgb(30, 30, 3), "png", good.toFile());
        Path missing = dir.resolve("nope.png");
        IOException notFound = assertThrows(IOException.class, () -> e.embedFiles(List.of(good, missing)));
        assertEquals("image file not found: " + missing, notFound.getMessage());

        Path corrupt = dir.resolve("corrupt.png");
        Files.write(corrupt, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5});
        IOException bad = assertThrows(IOException.class, () -> e.embedFiles(List.of(good, corrupt)));
        assertTrue(bad.getMessage().startsWith("cannot decode image " + corrupt), bad.getMessage());
        assertTrue(!bad.getMessage().contains("\n"), "one line");

        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> e.embedFiles(List.of()));
        assertEquals("no image files given", empty.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.embed(List.<BufferedImage>of()));

        float[][] ok = e.embedFiles(List.of(good, good));
        // rows 0 and 1 of one batch: equal up to the row-position rounding of OpenBLAS shapes (3e-7 measured)
        assertVectorsClose("the same file twice", new float[][] {ok[0]}, new float[][] {ok[1]}, 1e-6);
        assertVectorsClose("file vs picture", new float[][] {ok[0]}, new float[][] {e.embed(ImageIO.read(good.toFile()))}, 1e-5);
    }

    @Test
    void nonFiniteInputAndWeightsAreRefused() {
        Embedder e = embedder(GREY28, 16);
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);
        images.putScalar(new long[] {1, 0, 3, 4}, Float.NaN);
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> e.embed(images));
        assertTrue(nan.getMessage().contains("non-finite") && nan.getMessage().contains("NaN"), nan.getMessage());

        MaskedAutoencoder m = model(GREY28, 17);
        m.params().param("blocks.1.mlp.fc2.weight").putScalar(new long[] {3, 5}, Float.POSITIVE_INFINITY);
        IllegalArgumentException weights = assertThrows(IllegalArgumentException.class,
                () -> Embedder.of(GREY28, m.params(), Normalization.fashionMnist()));
        assertTrue(weights.getMessage().contains("blocks.1.mlp.fc2.weight"), weights.getMessage());
    }

    @Test
    void weightsThatDoNotFitTheConfigNameTheTensors() {
        MaskedAutoencoder m = model(GREY28, 18);
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (ParamStore.Entry en : m.params().entries()) if (!en.name().equals("blocks.0.attn.qkv.bias")) t.put(en.name(), m.params().param(en.name()));
        t.put("blocks.2.norm1.weight", Nd4j.ones(DataType.FLOAT, 32));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Embedder.of(GREY28, t, Normalization.fashionMnist()));
        assertTrue(ex.getMessage().contains("missing [blocks.0.attn.qkv.bias]") && ex.getMessage().contains("unexpected [blocks.2.norm1.weight]"), ex.getMessage());
    }
}
