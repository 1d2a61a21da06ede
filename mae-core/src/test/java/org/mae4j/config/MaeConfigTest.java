package org.mae4j.config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MaeConfigTest {

    private static final double EPS = 1e-6;

    /** Checks every documented size of a config; the expectations are the numbers of the MAE paper / README. */
    private static void assertSizes(MaeConfig c, int img, int p, int ch, int l, int k, int pd,
                                    int d, int depth, int heads, int e, int decDepth, int decHeads) {
        assertEquals(img, c.imageSize(), "imageSize");
        assertEquals(p, c.patchSize(), "patchSize");
        assertEquals(ch, c.channels(), "channels");
        assertEquals(img / p, c.gridSize(), "gridSize");
        assertEquals(l, c.numPatches(), "L");
        assertEquals(k, c.numKept(), "K");
        assertEquals(pd, c.patchDim(), "P");
        assertEquals(new VitSpec(d, depth, heads, 4), c.encoder(), "encoder");
        assertEquals(new VitSpec(e, decDepth, decHeads, 4), c.decoder(), "decoder");
        assertEquals(d / heads, c.encoder().headDim(), "encoder head dim");
        assertEquals(4 * d, c.encoder().mlpHidden(), "encoder mlp hidden");
        assertEquals(e / decHeads, c.decoder().headDim(), "decoder head dim");
        assertEquals(4 * e, c.decoder().mlpHidden(), "decoder mlp hidden");
        assertEquals(0.75, c.maskRatio(), "maskRatio");
        assertEquals(1e-6, c.normEps(), "normEps");
    }

    @Test
    void tinyFmnist() {
        MaeConfig c = MaeConfig.tinyFmnist();
        assertSizes(c, 28, 4, 1, 49, 12, 16, 192, 12, 3, 96, 4, 3);
        assertTrue(c.normPixLoss());
    }

    @Test
    void vitTiny32() {
        MaeConfig c = MaeConfig.vitTiny32();
        assertSizes(c, 32, 4, 3, 64, 16, 48, 192, 12, 3, 96, 4, 3);
        assertTrue(c.normPixLoss());
    }

    @Test
    void micro() {
        MaeConfig c = MaeConfig.micro();
        assertSizes(c, 16, 4, 3, 16, 4, 48, 32, 2, 2, 16, 1, 2);
        assertFalse(c.normPixLoss(), "the micro fixture uses the plain loss");
    }

    @Test
    void officialPresets() {
        assertSizes(MaeConfig.maeVitBasePatch16(), 224, 16, 3, 196, 49, 768, 768, 12, 12, 512, 8, 16);
        assertSizes(MaeConfig.maeVitLargePatch16(), 224, 16, 3, 196, 49, 768, 1024, 24, 16, 512, 8, 16);
        assertSizes(MaeConfig.maeVitHugePatch14(), 224, 14, 3, 256, 64, 588, 1280, 32, 16, 512, 8, 16);
        for (MaeConfig c : List.of(MaeConfig.maeVitBasePatch16(), MaeConfig.maeVitLargePatch16(), MaeConfig.maeVitHugePatch14())) {
            assertFalse(c.normPixLoss(), "official presets default to the plain loss (norm_pix_loss=False in models_mae)");
        }
    }

    @Test
    void liteKeepsTinyFmnist6sEncoderWithAOneBlockDecoder() {
        MaeConfig lite = MaeConfig.tinyFmnist6Lite(), six = MaeConfig.tinyFmnist6();
        // the encoder is what fine-tuning, probes and the shipped weights use: it must be tinyFmnist6's exactly
        assertEquals(six.encoder(), lite.encoder());
        assertEquals(six.withDecoder(lite.decoder()), lite);
        assertEquals(new VitSpec(128, 1, 4, 4), lite.decoder());
        assertThrows(IllegalArgumentException.class, () -> six.withDecoder(new VitSpec(126, 1, 3, 4)), "a width not divisible by 4 is refused");
    }

    @Test
    void presetByNameMatchesFactoryAndUnknownNameIsRejected() {
        assertEquals(List.of("maeVitBasePatch16", "maeVitHugePatch14", "maeVitLargePatch16", "micro", "tinyFmnist", "tinyFmnist6", "tinyFmnist6Lite", "vitTiny32"),
                MaeConfig.presetNames());
        assertEquals(MaeConfig.tinyFmnist6Lite(), MaeConfig.preset("tinyFmnist6Lite"));
        assertEquals(MaeConfig.tinyFmnist(), MaeConfig.preset("tinyFmnist"));
        assertEquals(MaeConfig.micro(), MaeConfig.preset("micro"));
        assertEquals(MaeConfig.vitTiny32(), MaeConfig.preset("vitTiny32"));
        assertEquals(MaeConfig.maeVitBasePatch16(), MaeConfig.preset("maeVitBasePatch16"));
        assertEquals(MaeConfig.maeVitLargePatch16(), MaeConfig.preset("maeVitLargePatch16"));
        assertEquals(MaeConfig.maeVitHugePatch14(), MaeConfig.preset("maeVitHugePatch14"));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> MaeConfig.preset("vitGiant"));
        assertTrue(ex.getMessage().contains("vitGiant") && ex.getMessage().contains("tinyFmnist"), ex.getMessage());
    }

    // ------------------------------------------------------------------ validation

    private static MaeConfig cfg(int img, int p, int c, VitSpec enc, VitSpec dec, double ratio) {
        return new MaeConfig(img, p, c, enc, dec, ratio, false, EPS);
    }

    private static final VitSpec ENC = new VitSpec(32, 2, 2, 4), DEC = new VitSpec(16, 1, 2, 4);

    private static String rejected(Runnable r) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(ex.getMessage() != null && !ex.getMessage().isBlank());
        return ex.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "message should mention '" + p + "': " + message);
    }

    @Test
    void imageNotDivisibleByPatchIsRejected() {
        String m = rejected(() -> cfg(30, 4, 1, ENC, DEC, 0.75));
        assertMentions(m, "30", "4");
        m = rejected(() -> MaeConfig.maeVitBasePatch16().withImageSize(225));
        assertMentions(m, "225", "16");
        m = rejected(() -> MaeConfig.maeVitHugePatch14().withImageSize(224 + 7));
        assertMentions(m, "231", "14");
    }

    private static List<Integer> ints(String s) {
        List<Integer> out = new ArrayList<>();
        Matcher m = Pattern.compile("-?\\d+").matcher(s);
        while (m.find()) out.add(Integer.parseInt(m.group()));
        return out;
    }

    /** If the message suggests image sizes, each must itself be valid (a positive multiple of p). */
    @Test
    void suggestedImageSizesAreValid() {
        for (int[] ip : new int[][]{{30, 4}, {3, 4}, {10, 16}, {225, 16}}) {
            int img = ip[0], p = ip[1];
            String m = rejected(() -> cfg(img, p, 1, ENC, DEC, 0.0));
            int at = m.indexOf("nearest valid image sizes");
            if (at < 0) continue;
            for (int s : ints(m.substring(at))) {
                assertTrue(s > 0 && s % p == 0, "suggested image size " + s + " is not valid for patch " + p + ": " + m);
                cfg(s, p, 1, ENC, DEC, 0.0);
            }
        }
    }

    @Test
    void widthNotDivisibleByHeadsListsValidHeadCounts() {
        String m = rejected(() -> new VitSpec(192, 12, 5, 4));
        assertMentions(m, "192", "5");
        int at = m.indexOf("valid");
        assertTrue(at >= 0, "message should list the valid head counts: " + m);
        Set<Integer> divisors = new TreeSet<>();
        for (int h = 1; h <= 192; h++) if (192 % h == 0) divisors.add(h);
        assertEquals(divisors, new TreeSet<>(ints(m.substring(at))), m);

        m = rejected(() -> new VitSpec(30, 1, 4, 4));
        assertMentions(m, "30", "4");
        assertEquals(new TreeSet<>(List.of(1, 2, 3, 5, 6, 10, 15, 30)), new TreeSet<>(ints(m.substring(m.indexOf("valid")))), m);
    }

    @Test
    void maskRatioOutsideZeroOneIsRejected() {
        MaeConfig base = MaeConfig.tinyFmnist();
        assertMentions(rejected(() -> base.withMaskRatio(1.0)), "1.0");
        assertMentions(rejected(() -> base.withMaskRatio(-0.1)), "-0.1");
        assertMentions(rejected(() -> base.withMaskRatio(Double.NaN)), "NaN");
        assertMentions(rejected(() -> base.withMaskRatio(1.5)), "1.5");
        assertMentions(rejected(() -> base.withMaskRatio(Double.POSITIVE_INFINITY)), "Infinity");
        // the ends of the valid range
        assertEquals(49, base.withMaskRatio(0.0).numKept());
        assertEquals(1, base.withMaskRatio(0.97).numKept());   // int(49 * 0.03) = int(1.47) = 1
    }

    @Test
    void ratioThatKeepsNoPatchIsRejected() {
        MaeConfig l4 = cfg(8, 4, 3, ENC, DEC, 0.0);                       // L = 4
        assertEquals(4, l4.numPatches());
        assertMentions(rejected(() -> l4.withMaskRatio(0.9)), "0.9", "4");  // int(4 * 0.1) = 0
        assertEquals(1, l4.withMaskRatio(0.75).numKept());                 // int(4 * 0.25) = 1: allowed
        MaeConfig one = cfg(4, 4, 3, ENC, DEC, 0.0);                       // L = 1: only ratio 0 keeps a patch
        assertEquals(1, one.numKept());
        assertMentions(rejected(() -> one.withMaskRatio(0.5)), "0.5", "1");
    }

    /** The message says "use maskRatio <= X"; that X must itself be accepted (it is for L = 4, 16, 49; check a few more L). */
    @Test
    void suggestedMaxMaskRatioIsAccepted() {
        for (int g : new int[]{2, 3, 4, 7, 11, 12, 14, 16}) {
            MaeConfig base = cfg(4 * g, 4, 1, ENC, DEC, 0.0);
            int l = g * g;
            String m = rejected(() -> base.withMaskRatio(0.999999));
            int at = m.lastIndexOf("<=");
            if (at < 0) continue;
            Matcher num = Pattern.compile("[0-9.Ee-]+").matcher(m.substring(at + 2).trim());
            assertTrue(num.lookingAt(), m);
            double suggested = Double.parseDouble(num.group());
            MaeConfig ok = assertDoesNotThrowConfig(() -> base.withMaskRatio(suggested),
                    "L = " + l + ": the suggested maskRatio " + suggested + " is itself rejected; message was: " + m);
            assertEquals(1, ok.numKept(), "L = " + l);
        }
    }

    private static MaeConfig assertDoesNotThrowConfig(java.util.function.Supplier<MaeConfig> s, String msg) {
        try {
            return s.get();
        } catch (IllegalArgumentException e) {
            throw new AssertionError(msg + " (" + e.getMessage() + ")", e);
        }
    }

    @Test
    void widthNotDivisibleBy4IsRejected() {
        assertMentions(rejected(() -> cfg(16, 4, 3, new VitSpec(30, 1, 2, 4), DEC, 0.75)), "30");
        assertMentions(rejected(() -> cfg(16, 4, 3, ENC, new VitSpec(18, 1, 2, 4), 0.75)), "18");
    }

    @Test
    void nonPositiveSizesAreRejected() {
        assertMentions(rejected(() -> cfg(0, 4, 3, ENC, DEC, 0.75)), "0");
        assertMentions(rejected(() -> cfg(-16, 4, 3, ENC, DEC, 0.75)), "-16");
        assertMentions(rejected(() -> cfg(16, 0, 3, ENC, DEC, 0.75)), "0");
        assertMentions(rejected(() -> cfg(16, -4, 3, ENC, DEC, 0.75)), "-4");
        assertMentions(rejected(() -> cfg(16, 4, 0, ENC, DEC, 0.75)), "0");
        assertMentions(rejected(() -> cfg(16, 4, -3, ENC, DEC, 0.75)), "-3");
        assertMentions(rejected(() -> new VitSpec(0, 2, 2, 4)), "0");
        assertMentions(rejected(() -> new VitSpec(-32, 2, 2, 4)), "-32");
        assertMentions(rejected(() -> new VitSpec(32, -1, 2, 4)), "-1");
        assertMentions(rejected(() -> new VitSpec(32, 2, 0, 4)), "0");
        assertMentions(rejected(() -> new VitSpec(32, 2, -2, 4)), "-2");
        assertMentions(rejected(() -> new VitSpec(32, 2, 2, 0)), "0");
        assertMentions(rejected(() -> new VitSpec(32, 2, 2, Double.NaN)), "NaN");
        assertMentions(rejected(() -> cfg(16, 4, 3, null, DEC, 0.75)), "encoder");
        assertMentions(rejected(() -> MaeConfig.micro().withNormEps(0)), "0");
        assertMentions(rejected(() -> MaeConfig.micro().withNormEps(Double.NaN)), "NaN");
        assertEquals(0, new VitSpec(32, 0, 2, 4).depth(), "depth 0 (no blocks) is allowed");
    }

    // ------------------------------------------------------------------ withX copies

    @Test
    void withCopiesChangeOnlyThatField() {
        MaeConfig b = MaeConfig.tinyFmnist();

        MaeConfig r = b.withMaskRatio(0.5);
        assertEquals(new MaeConfig(28, 4, 1, b.encoder(), b.decoder(), 0.5, true, 1e-6), r);
        assertEquals(24, r.numKept());   // int(49 * 0.5)

        assertEquals(new MaeConfig(28, 4, 1, b.encoder(), b.decoder(), 0.75, false, 1e-6), b.withNormPixLoss(false));
        assertEquals(new MaeConfig(28, 4, 1, b.encoder(), b.decoder(), 0.75, true, 1e-12), b.withNormEps(1e-12));

        MaeConfig c3 = b.withChannels(3);
        assertEquals(new MaeConfig(28, 4, 3, b.encoder(), b.decoder(), 0.75, true, 1e-6), c3);
        assertEquals(48, c3.patchDim());
        assertEquals(49, c3.numPatches());

        MaeConfig big = b.withImageSize(32);
        assertEquals(new MaeConfig(32, 4, 1, b.encoder(), b.decoder(), 0.75, true, 1e-6), big);
        assertEquals(64, big.numPatches());
        assertEquals(16, big.numKept());
        assertEquals(16, big.patchDim());

        // the original is untouched
        assertEquals(new MaeConfig(28, 4, 1, new VitSpec(192, 12, 3, 4), new VitSpec(96, 4, 3, 4), 0.75, true, 1e-6), b);
        assertNotEquals(b, r);

        VitSpec v = b.encoder().withDepth(2);
        assertEquals(new VitSpec(192, 2, 3, 4), v);
        assertEquals(new VitSpec(192, 12, 3, 4), b.encoder());
    }

    @Test
    void withCopiesValidateToo() {
        assertThrows(IllegalArgumentException.class, () -> MaeConfig.micro().withChannels(0));
        assertThrows(IllegalArgumentException.class, () -> MaeConfig.micro().withImageSize(18));
        assertThrows(IllegalArgumentException.class, () -> MaeConfig.micro().encoder().withDepth(-1));
    }

    @Test
    void mlpHiddenTruncatesLikeTheReference() {
        assertEquals(40, new VitSpec(16, 1, 2, 2.5).mlpHidden());
        assertEquals(21, new VitSpec(16, 1, 2, 1.33).mlpHidden());   // int(21.28)
        assertEquals(8, new VitSpec(16, 1, 2, 4).headDim());
    }
}
