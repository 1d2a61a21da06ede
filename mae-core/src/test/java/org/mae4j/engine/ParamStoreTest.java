package org.mae4j.engine;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParamStoreTest {

    private static ParamStore small(DataType dt) {
        return ParamStore.builder()
                .add("w", true, 3, 4)
                .add("table", false, 1, 5, 2)
                .add("b", true, 4)
                .build(dt);
    }

    private static void assertMentions(String m, String... parts) {
        for (String p : parts) assertTrue(m.contains(p), "message should mention '" + p + "': " + m);
    }

    @Test
    void layoutIsContiguousInInsertionOrder() {
        ParamStore s = small(DataType.FLOAT);
        List<ParamStore.Entry> e = s.entries();
        assertEquals(List.of("w", "table", "b"), e.stream().map(ParamStore.Entry::name).toList());
        assertEquals(0, e.get(0).offset());
        assertEquals(12, e.get(0).length());
        assertEquals(12, e.get(1).offset());
        assertEquals(10, e.get(1).length());
        assertEquals(22, e.get(2).offset());
        assertEquals(4, e.get(2).length());
        assertEquals(26, s.numScalars());
        assertEquals(16, s.numTrainable());
        assertEquals(26, s.flatParams().length());
        assertEquals(26, s.flatGrads().length());
        assertEquals(DataType.FLOAT, s.dataType());
        assertFalse(s.entry("table").trainable());
        assertTrue(s.contains("b"));
        assertFalse(s.contains("c"));
        assertArrayEquals(new long[]{1, 5, 2}, s.param("table").shape());
        assertArrayEquals(new long[]{1, 5, 2}, s.grad("table").shape());
        assertEquals(3, s.entry("table").rank());
        // freshly built buffers are zero
        assertEquals(0.0, s.flatParams().amaxNumber().doubleValue(), 0.0);
        assertEquals(0.0, s.flatGrads().amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void viewsAliasTheFlatBuffers() {
        for (DataType dt : new DataType[]{DataType.FLOAT, DataType.DOUBLE}) {
            ParamStore s = small(dt);
            for (ParamStore.Entry e : s.entries()) {
                // write through the view: the flat buffer changes at offset + C-order index, nothing else does
                INDArray v = s.param(e.name());
                INDArray values = Nd4j.linspace(DataType.DOUBLE, 1, e.length(), 1).addi(100.0 * e.offset()).reshape('c', e.shape()).castTo(dt);
                v.assign(values);
                for (long i = 0; i < e.length(); i++) {
                    assertEquals(100.0 * e.offset() + 1 + i, s.flatParams().getDouble(e.offset() + i), 0.0, e.name() + "[" + i + "]");
                }
                // and the other way round
                s.flatParams().putScalar(e.offset() + e.length() - 1, -7.0);
                long[] last = e.shape();
                for (int d = 0; d < last.length; d++) last[d] -= 1;
                assertEquals(-7.0, s.param(e.name()).getDouble(last), 0.0, e.name());
                // gradients alias the gradient buffer the same way
                s.grad(e.name()).assign(e.offset() + 0.5);
                for (long i = 0; i < e.length(); i++) assertEquals(e.offset() + 0.5, s.flatGrads().getDouble(e.offset() + i), 0.0);
            }
            // no view wrote past its own range: each range holds its own values
            assertEquals(1.0, s.flatParams().getDouble(0), 0.0);
            assertEquals(1201.0, s.flatParams().getDouble(12), 0.0);
            assertEquals(2201.0, s.flatParams().getDouble(22), 0.0);
            assertEquals(22.5, s.flatGrads().getDouble(25), 0.0);
            // repeated lookups give views of the same memory
            s.param("w").putScalar(new long[]{1, 2}, 42.0);
            assertEquals(42.0, s.param("w").getDouble(1, 2), 0.0);
            assertEquals(42.0, s.flatParams().getDouble(6), 0.0);
        }
    }

    @Test
    void setCopiesInAndCastsAndChecksShape() {
        ParamStore s = small(DataType.FLOAT);
        INDArray w = Nd4j.rand(DataType.DOUBLE, 3, 4);
        s.set("w", w);
        assertEquals(w.castTo(DataType.FLOAT), s.param("w"));
        w.assign(0);
        assertTrue(s.param("w").amaxNumber().doubleValue() > 0, "set must copy, not keep the caller's array");
        // a non-contiguous value lands in C order of its logical values
        INDArray t = Nd4j.linspace(DataType.FLOAT, 0, 12, 1).reshape('c', 4, 3).transpose();   // [3, 4]
        s.set("w", t);
        assertEquals(t, s.param("w"));
        assertEquals(t.getDouble(0, 1), s.flatParams().getDouble(1), 0.0);

        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> s.set("w", Nd4j.create(DataType.FLOAT, 4, 3)));
        assertMentions(ex.getMessage(), "'w'", "[3, 4]", "[4, 3]");
        ex = assertThrows(IllegalArgumentException.class, () -> s.set("b", Nd4j.create(DataType.FLOAT, 1, 4)));
        assertMentions(ex.getMessage(), "b", "[4]", "[1, 4]");
        assertEquals(t, s.param("w"), "a rejected set changes nothing");
    }

    @Test
    void zeroGradClearsGradientsOnly() {
        ParamStore s = small(DataType.FLOAT);
        s.flatParams().assign(3);
        s.flatGrads().assign(2);
        s.grad("b").assign(-5);
        INDArray gradView = s.grad("w");
        s.zeroGrad();
        assertEquals(0.0, s.flatGrads().amaxNumber().doubleValue(), 0.0);
        assertEquals(0.0, gradView.amaxNumber().doubleValue(), 0.0, "views see the cleared buffer");
        assertEquals(3.0, s.flatParams().minNumber().doubleValue(), 0.0);
        assertEquals(3.0, s.flatParams().maxNumber().doubleValue(), 0.0);
        // gradients still alias after clearing
        s.grad("b").assign(1);
        assertEquals(4.0, s.flatGrads().sumNumber().doubleValue(), 0.0);
    }

    @Test
    void duplicateNamesBadDimsAndBadDtypesAreRejected() {
        ParamStore.Builder b = ParamStore.builder().add("blocks.0.norm1.weight", true, 8);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> b.add("blocks.0.norm1.weight", true, 8));
        assertMentions(ex.getMessage(), "blocks.0.norm1.weight");
        ex = assertThrows(IllegalArgumentException.class, () -> ParamStore.builder().add("x", true, 3, 0));
        assertMentions(ex.getMessage(), "x", "[3, 0]");
        ex = assertThrows(IllegalArgumentException.class, () -> ParamStore.builder().add("y", true, -2));
        assertMentions(ex.getMessage(), "y", "-2");
        ex = assertThrows(IllegalArgumentException.class, () -> ParamStore.builder().add("z", true, 2).build(DataType.INT));
        assertMentions(ex.getMessage(), "INT");
    }

    @Test
    void unknownKeysAreRejectedWithTheKey() {
        ParamStore s = small(DataType.FLOAT);
        for (Runnable r : List.<Runnable>of(() -> s.param("blocks.9.attn.qkv.weight"), () -> s.grad("blocks.9.attn.qkv.weight"),
                () -> s.entry("blocks.9.attn.qkv.weight"), () -> s.set("blocks.9.attn.qkv.weight", Nd4j.create(DataType.FLOAT, 4)))) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, r::run);
            assertMentions(ex.getMessage(), "blocks.9.attn.qkv.weight");
        }
    }

    @Test
    void setAllIsAllOrNothingAndNamesEveryProblem() {
        ParamStore s = small(DataType.FLOAT);
        s.flatParams().assign(9);
        Map<String, INDArray> ok = new LinkedHashMap<>();
        ok.put("w", Nd4j.rand(DataType.FLOAT, 3, 4));
        ok.put("b", Nd4j.rand(DataType.FLOAT, 4));
        s.setAll(ok, "ok-source");
        assertEquals(ok.get("w"), s.param("w"));
        assertEquals(ok.get("b"), s.param("b"));
        assertEquals(9.0, s.param("table").minNumber().doubleValue(), 0.0, "an absent frozen tensor keeps its values");

        INDArray before = s.flatParams().dup();
        Map<String, INDArray> bad = new LinkedHashMap<>();
        bad.put("w", Nd4j.rand(DataType.FLOAT, 4, 3));           // wrong shape
        bad.put("extra", Nd4j.rand(DataType.FLOAT, 2));           // unknown
        bad.put("table", Nd4j.rand(DataType.FLOAT, 1, 5, 2));     // fine, but must not be written
        // "b" missing
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> s.setAll(bad, "some/dir"));
        assertMentions(ex.getMessage(), "some/dir", "b", "extra", "w", "[3, 4]", "[4, 3]");
        assertEquals(before, s.flatParams(), "a rejected setAll changes nothing");
    }

    @Test
    void entryShapesAreDefensiveCopies() {
        ParamStore s = small(DataType.FLOAT);
        s.entry("w").shape()[0] = 99;
        assertArrayEquals(new long[]{3, 4}, s.entry("w").shape());
        s.entries().clear();
        assertEquals(3, s.entries().size());
    }

    // ------------------------------------------------------------------ the MAE layout

    /** The reference state_dict of micro (README parameter table): names, order, shapes, trainable flags. */
    @Test
    void microLayoutIsTheReferenceStateDict() {
        int d = 32, e = 16, l = 16, p = 4, c = 3, pd = p * p * c;
        List<Object[]> want = new ArrayList<>();
        want.add(new Object[]{"cls_token", true, new long[]{1, 1, d}});
        want.add(new Object[]{"pos_embed", false, new long[]{1, 1 + l, d}});
        want.add(new Object[]{"mask_token", true, new long[]{1, 1, e}});
        want.add(new Object[]{"decoder_pos_embed", false, new long[]{1, 1 + l, e}});
        want.add(new Object[]{"patch_embed.proj.weight", true, new long[]{d, c, p, p}});
        want.add(new Object[]{"patch_embed.proj.bias", true, new long[]{d}});
        for (int i = 0; i < 2; i++) block(want, "blocks." + i, d);
        want.add(new Object[]{"norm.weight", true, new long[]{d}});
        want.add(new Object[]{"norm.bias", true, new long[]{d}});
        want.add(new Object[]{"decoder_embed.weight", true, new long[]{e, d}});
        want.add(new Object[]{"decoder_embed.bias", true, new long[]{e}});
        block(want, "decoder_blocks.0", e);
        want.add(new Object[]{"decoder_norm.weight", true, new long[]{e}});
        want.add(new Object[]{"decoder_norm.bias", true, new long[]{e}});
        want.add(new Object[]{"decoder_pred.weight", true, new long[]{pd, e}});
        want.add(new Object[]{"decoder_pred.bias", true, new long[]{pd}});

        ParamStore s = MaskedAutoencoder.layout(MaeConfig.micro()).build(DataType.FLOAT);
        List<ParamStore.Entry> got = s.entries();
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i)[0], got.get(i).name(), "entry " + i);
            assertEquals(want.get(i)[1], got.get(i).trainable(), got.get(i).name());
            assertArrayEquals((long[]) want.get(i)[2], got.get(i).shape(), got.get(i).name());
        }
        assertEquals(31_744, s.numTrainable(), "README: micro has 31,744 trainable parameters");
        assertEquals(31_744 + (1 + l) * (d + e), s.numScalars());
    }

    private static void block(List<Object[]> out, String pre, int w) {
        int h = 4 * w;
        out.add(new Object[]{pre + ".norm1.weight", true, new long[]{w}});
        out.add(new Object[]{pre + ".norm1.bias", true, new long[]{w}});
        out.add(new Object[]{pre + ".attn.qkv.weight", true, new long[]{3L * w, w}});
        out.add(new Object[]{pre + ".attn.qkv.bias", true, new long[]{3L * w}});
        out.add(new Object[]{pre + ".attn.proj.weight", true, new long[]{w, w}});
        out.add(new Object[]{pre + ".attn.proj.bias", true, new long[]{w}});
        out.add(new Object[]{pre + ".norm2.weight", true, new long[]{w}});
        out.add(new Object[]{pre + ".norm2.bias", true, new long[]{w}});
        out.add(new Object[]{pre + ".mlp.fc1.weight", true, new long[]{h, w}});
        out.add(new Object[]{pre + ".mlp.fc1.bias", true, new long[]{h}});
        out.add(new Object[]{pre + ".mlp.fc2.weight", true, new long[]{w, h}});
        out.add(new Object[]{pre + ".mlp.fc2.bias", true, new long[]{w}});
    }

    @Test
    void tinyFmnistTrainableCountMatchesTheReference() {
        ParamStore s = MaskedAutoencoder.layout(MaeConfig.tinyFmnist()).build(DataType.FLOAT);
        assertEquals(5_809_936, s.numTrainable(), "README: tiny-fmnist has 5,809,936 trainable parameters");
        assertEquals(Arrays.asList(1L, 50L, 192L), Arrays.stream(s.entry("pos_embed").shape()).boxed().toList());
    }
}
