package org.mae4j;

import org.junit.jupiter.api.Test;
import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.embed.Embedder;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PositionTables;
import org.mae4j.mae.PretrainedWeights;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Embedder} and the position-table resampling against the recorded reference: the pooled vectors are
 * the encoder's tokens pooled (micro-s1), a global-pool classifier's MEAN vector is the reference's
 * {@code fc_norm} output (finetune-micro-s3), and the bicubic resampling is the reference's
 * {@code interpolate_pos_embed} (finetune-tiny-s5/posembed-interp).
 */
class EmbedderParityTest {

    @Test
    void poolsTheEncodersTokensExactly() throws IOException {
        Reference ref = Reference.load("micro-s1");
        MaeConfig cfg = ref.config();
        INDArray images = ref.array("images");                       // [3, 3, 16, 16], N(0, 1): already "normalised"
        int n = (int) images.size(0), l = cfg.numPatches(), d = cfg.encoder().width();
        MaskedAutoencoder mae = PretrainedWeights.load(ref.params(), cfg).model();
        float[] tokens = mae.encode(images).dup('c').data().asFloat();   // [N, 1+L, D]

        Embedder cls = Embedder.load(ref.params(), cfg, Normalization.imagenet());
        assertEquals(Embedder.Pooling.CLS, cls.pooling(), "pretraining weights pool the cls token by default");
        assertEquals(d, cls.dimension());
        float[][] gotCls = cls.embed(images);
        float[][] gotMean = cls.withPooling(Embedder.Pooling.MEAN).embed(images);
        float[][] wantCls = new float[n][d], wantMean = new float[n][d];
        for (int b = 0; b < n; b++) {
            int base = b * (1 + l) * d;
            System.arraycopy(tokens, base, wantCls[b], 0, d);
            for (int c = 0; c < d; c++) {
                double s = 0;
                for (int r = 1; r <= l; r++) s += tokens[base + r * d + c];
                wantMean[b][c] = (float) (s / l);
            }
        }
        // The same kernels in the same order, so equal up to the one thing that is not reproducible: the Vector
        // API's lane sums (reduceLanes) change order when C2 compiles them, between two calls as much as here.
        double relCls = Compare.assertClose("CLS = row 0 of encode()", Nd4j.createFromArray(gotCls), Nd4j.createFromArray(wantCls), 0);   // exactly the cls row
        double relMean = Compare.assertClose("MEAN = mean of rows 1..L of encode()", Nd4j.createFromArray(gotMean), Nd4j.createFromArray(wantMean), 1e-6);
        System.out.printf("micro-s1 pooled tokens: CLS max rel error %.2e, MEAN %.2e%n", relCls, relMean);
    }

    @Test
    void globalPoolClassifierMeanIsTheReferencesFcNormOutput() throws IOException {
        Reference ref = Reference.load("finetune-micro-s3");
        MaeConfig cfg = MaeConfig.micro();                            // the fixture's encoder: 16 px, patch 4, 32 x 2 x 2
        // params/ holds a global-pool classifier: blocks, fc_norm and head, no norm, no decoder.
        Embedder e = Embedder.load(ref.params(), cfg, Normalization.imagenet());
        assertEquals(Embedder.Pooling.MEAN, e.pooling(), "a classifier without the final norm pools by MEAN");
        float[][] got = e.embed(ref.array("images"));
        INDArray gotArr = Nd4j.createFromArray(got);
        double rel = Compare.assertClose("features = fc_norm(mean of patch tokens)", gotArr, ref.array("features"), 1e-5);
        System.out.printf("finetune-micro-s3 features: max rel error %.2e%n", rel);
        IllegalArgumentException noCls = assertThrows(IllegalArgumentException.class, () -> e.withPooling(Embedder.Pooling.CLS));
        assertTrue(noCls.getMessage().contains("fc_norm"), noCls.getMessage());
    }

    @Test
    void bicubicResamplingMatchesInterpolatePosEmbed() {
        Reference ref = Reference.load("finetune-tiny-s5");
        INDArray seven = ref.array("posembed-interp/pos_embed_7x7");   // [1, 50, 192]
        for (int grid : new int[] {9, 5}) {
            INDArray want = ref.array("posembed-interp/pos_embed_" + grid + "x" + grid);
            INDArray got = PositionTables.resampleBicubic(seven, grid);
            assertEquals(DataType.FLOAT, got.dataType());
            double rel = Compare.assertClose("pos_embed 7x7 -> " + grid + "x" + grid, got, want, 1e-5);
            System.out.printf("posembed-interp 7 -> %d: max rel error %.2e%n", grid, rel);
            Compare.assertExact("cls row kept", got.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(0)), seven.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(0)));
        }
        // The fixture's input is the fixed sin-cos table, which forGrid regenerates rather than resamples.
        assertTrue(PositionTables.isSinCos(seven));
        assertFalse(PositionTables.isSinCos(ref.array("posembed-interp/pos_embed_9x9")), "a resampled table is not the 9x9 sin-cos table");
    }
}
