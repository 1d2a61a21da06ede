package org.mae4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mae4j.config.Normalization;
import org.mae4j.finetune.FinetuneRecipe;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.io.Checkpoint;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** ./mae finetune --recipe: the presets behind the options, the given options over them, the recipe checked on resume. */
class FinetuneRecipeCommandTest {

    private static FinetuneRecipe parsed(String... args) {
        CommandLine cl = Mae.commandLine();   // as ./mae parses (its enum and converter settings)
        String[] all = new String[args.length + 1];
        all[0] = "finetune";
        System.arraycopy(args, 0, all, 1, args.length);
        cl.parseArgs(all);
        return cl.getSubcommands().get("finetune").<FinetuneCommand>getCommand().recipe();
    }

    private static int run(StringWriter err, String... args) {
        CommandLine cl = Mae.commandLine();
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void noOptionsGiveTheDefaultsFinetuneAlwaysHad() {
        // the values ./mae finetune's options defaulted to before recipes had names (main_finetune.py's) are
        // reference()'s, which FinetuneRecipeTest.referenceIsThePapersMainFinetuneRecipe pins one by one
        FinetuneRecipe r = parsed();
        assertEquals(FinetuneRecipe.reference(), r);
    }

    @Test
    void smallImagesGivesTheLightTransformAndGivenOptionsOverrideItsKnobs() {
        FinetuneRecipe s = parsed("--recipe", "small-images");
        assertEquals(FinetuneRecipe.smallImages(), s);
        assertFalse(s.mixupOf().enabled());
        String t = s.transform(Normalization.fashionMnist()).toString();
        assertTrue(t.contains("pad 2 + random crop + flip") && t.contains("RandAugment[none") && t.contains("RandomErasing[prob=0.0"), t);

        FinetuneRecipe o = parsed("--recipe", "small-images", "--mixup", "0.2", "--epochs", "100", "--trainable-blocks", "3", "--crop-scale", "0.35");
        assertEquals(FinetuneRecipe.smallImages().withMixup(0.2).withEpochs(100).withTrainableBlocks(3).withCrop(FinetuneRecipe.Crop.resized(0.35)), o);
        assertEquals(FinetuneRecipe.reference().withCrop(FinetuneRecipe.Crop.padded(4)).withPooling(VitClassifier.Pooling.CLS_TOKEN),
                parsed("--crop-padding", "4", "--cls-token"));
        assertEquals(FinetuneRecipe.ALL_BLOCKS, parsed("--trainable-blocks", "all").trainableBlocks());
    }

    @Test
    void badRecipeOptionsAreRefusedInOneLine(@TempDir Path tmp) {
        String out = tmp.resolve("x").toString();
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--recipe", "tiny", "--out", out));
        assertTrue(err.toString().contains("unknown finetune recipe 'tiny'; known: [reference, small-images]"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--trainable-blocks", "-1", "--out", out));
        assertTrue(err.toString().contains("--trainable-blocks -1: must be 'all' or a number of blocks >= 0"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--crop-scale", "0.5", "--crop-padding", "2", "--out", out));
        assertTrue(err.toString().contains("--crop-scale and --crop-padding exclude each other"), err.toString());
    }

    @Test
    void helpShowsWhatEachRecipeSets() {
        StringWriter help = new StringWriter();
        CommandLine cl = Mae.commandLine();
        cl.getSubcommands().get("finetune").usage(new PrintWriter(help));
        String h = help.toString();
        assertTrue(h.contains("What each --recipe sets"), h);
        assertTrue(h.lines().anyMatch(l -> l.matches("\\s+--mixup\\s+0\\.8\\s+0\\.0")), h);
        assertTrue(h.lines().anyMatch(l -> l.matches("\\s+crop\\s+--crop-scale 0\\.08\\s+--crop-padding 2")), h);
    }

    @Test
    void aResumeWithAnotherRecipeIsRefusedAndAnOldCheckpointResumesAsTheReference(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ft");
        String[] args = {"finetune", "--random-init", "--preset", "tinyFmnist6", "--limit", "40", "--epochs", "2", "--batch", "16", "--warmup-epochs", "0",
                "--max-steps", "1", "--out", out.toString()};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args), err.toString());
        Path ckpt = out.resolve("checkpoint.zip");
        Checkpoint.Contents c = Checkpoint.load(ckpt);
        assertEquals("reference", c.options().get("recipe"));

        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--resume", ckpt.toString(), "--recipe", "small-images", "--max-steps", "2", "--out", out.toString()));
        assertTrue(err.toString().contains("--recipe small-images conflicts with the checkpoint's reference"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());

        // a checkpoint from before named recipes (no recipe, crop, pooling, drop_path or trainable_blocks keys) is the reference's
        Map<String, String> old = new LinkedHashMap<>(c.options());
        for (String k : new String[] {"recipe", "crop", "pooling", "drop_path", "trainable_blocks"}) old.remove(k);
        Checkpoint.save(ckpt, new Checkpoint.Contents(c.kind(), c.config(), c.model(), c.normalization(), c.params(), c.state(), c.optimizer(),
                old, c.provenance(), c.formatVersion()));
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--resume", ckpt.toString(), "--recipe", "small-images", "--max-steps", "2", "--out", out.toString()));
        assertTrue(err.toString().contains("--recipe small-images conflicts with the checkpoint's reference"), err.toString());
        err = new StringWriter();
        assertEquals(0, run(err, "finetune", "--resume", ckpt.toString(), "--max-steps", "2", "--out", out.toString()), err.toString());
        Checkpoint.Contents resumed = Checkpoint.load(ckpt);
        assertEquals(2, resumed.state().step());
        assertEquals("reference", resumed.options().get("recipe"));
        assertEquals("resized-0.08", resumed.options().get("crop"));
    }

    @Test
    void valEveryScoresTheValidationSplitEveryNEpochsAndAtTheLast(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ft");
        String[] args = {"finetune", "--random-init", "--preset", "tinyFmnist6", "--recipe", "small-images", "--limit", "40", "--epochs", "5",
                "--batch", "16", "--warmup-epochs", "0", "--val-every", "2", "--out", out.toString()};
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, args), err.toString());
        java.util.List<Map<String, Double>> epochs = java.nio.file.Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("\"type\":\"epoch_end\"")).map(org.mae4j.train.RunFolder::numbers).toList();
        assertEquals(5, epochs.size());
        for (Map<String, Double> e : epochs) {
            int epoch = e.get("epoch").intValue();
            assertEquals(epoch == 2 || epoch == 4 || epoch == 5, e.containsKey("val_top1"), "epoch " + epoch + ": " + e);
        }
        assertEquals("2", Checkpoint.load(out.resolve("checkpoint.zip")).options().get("val_every"));
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--resume", out.resolve("checkpoint.zip").toString(), "--val-every", "3", "--out", out.toString()));
        assertTrue(err.toString().contains("--val-every 3 conflicts"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "finetune", "--random-init", "--val-every", "0", "--out", tmp.resolve("zero").toString()));
        assertTrue(err.toString().contains("--val-every must be >= 1"), err.toString());
    }
}
