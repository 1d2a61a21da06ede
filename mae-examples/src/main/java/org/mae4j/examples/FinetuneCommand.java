package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.FineTuneTransform;
import org.mae4j.data.Mixup;
import org.mae4j.data.RandomErasing;
import org.mae4j.data.Transform;
import org.mae4j.train.ParamGroups;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Split;
import org.mae4j.engine.Kernels;
import org.mae4j.examples.viz.ConfusionMatrix;
import org.mae4j.finetune.Classification;
import org.mae4j.finetune.FineTuning;
import org.mae4j.finetune.VitClassifier;
import org.mae4j.io.Checkpoint;
import org.mae4j.mae.MaskedAutoencoder;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.train.AdamW;
import org.mae4j.train.Collective;
import org.mae4j.train.RunFolder;
import org.mae4j.train.TrainData;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingState;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code ./mae finetune}: the encoder plus a classification head, all trained on the training engine; the
 * best epoch on a validation split held out of the training data is kept (checkpoint-best.zip) beside the
 * last (checkpoint.zip), and the test set is scored once, at the end, with the best. {@code --eval} scores a
 * saved classifier. The recipe is the reference's ({@code main_finetune.py}): global pool + fc_norm head,
 * layer-wise lr decay, AdamW (0.9, 0.999), drop path, RandAugment, random erasing, Mixup/CutMix with label
 * smoothing, warmup + cosine. Writes metrics.jsonl, finetune.json and confusion.png into --out.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Fine-tune the encoder with a classification head; choose the best epoch on a validation split; score the test set.")
public final class FinetuneCommand implements Callable<Integer>, TrainingCommand {
    @Spec CommandSpec spec;
    @Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--epochs", defaultValue = "50", description = "Total epochs (the reference's default).")
    int epochs;
    @Option(names = "--batch", defaultValue = "64", description = "Images per step (the reference's default).")
    int batch;
    @Option(names = "--blr", defaultValue = "1e-3", description = "Base learning rate: lr = blr x effective batch / 256.")
    double blr;
    @Option(names = "--min-lr", defaultValue = "1e-6", description = "Lower bound of the cosine schedule.")
    double minLr;
    @Option(names = "--warmup-epochs", defaultValue = "5", description = "Epochs of linear warmup (at most --epochs).")
    double warmupEpochs;
    @Option(names = "--smoothing", defaultValue = "0.1", description = "Label smoothing.")
    double smoothing;
    @Option(names = "--layer-decay", defaultValue = "0.75", description = "Layer-wise lr decay: block i's lr is scaled by layer_decay^(depth + 1 - (i + 1)).")
    double layerDecay;
    @Option(names = "--drop-path", defaultValue = "0.1", description = "Stochastic depth rate of the last block (linear from 0 over the depth).")
    double dropPath;
    @Option(names = "--mixup", defaultValue = "0.8", description = "Mixup alpha (0 = off).")
    double mixupAlpha;
    @Option(names = "--cutmix", defaultValue = "1.0", description = "CutMix alpha (0 = off).")
    double cutmixAlpha;
    @Option(names = "--mixup-prob", defaultValue = "1.0", description = "Probability of mixing a batch at all.")
    double mixupProb;
    @Option(names = "--mixup-switch-prob", defaultValue = "0.5", description = "Probability of CutMix instead of Mixup when both are on.")
    double mixupSwitchProb;
    @Option(names = "--crop-scale", defaultValue = "0.08", description = "Smallest area fraction of RandomResizedCrop (timm's default, made for 224 px; "
            + "small images may want more).")
    double cropScale;
    @Option(names = "--reprob", defaultValue = "0.25", description = "Random erasing probability (per-pixel normal values, timm's 'pixel' mode).")
    double reprob;
    @Option(names = "--aa", defaultValue = RandAugmentPolicy.MAE, description = "RandAugment policy (timm syntax), or 'none'.")
    String aa;
    @Option(names = "--cls-token", description = "Classify from the cls token after the final norm instead of the reference's global pool + fc_norm.")
    boolean clsToken;
    @Option(names = "--global-pool", description = "Global average pool of the patch tokens + fc_norm (the reference's default; the opposite of --cls-token).")
    boolean globalPool;
    @Option(names = "--weight-decay", defaultValue = "0.05", description = "AdamW weight decay.")
    double weightDecay;
    @Option(names = "--clip-grad", defaultValue = "0", description = "Clip the gradient's global L2 norm to this (0 = off, as the reference).")
    double clipGrad;
    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Fraction of the training data held out to choose the best epoch (never the test set).")
    double valFraction;
    @Option(names = "--eval", description = "Only score this saved classifier (a finetune checkpoint) on the test set.")
    Path eval;
    @Mixin
    RunOptions run = new RunOptions();
    @Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Mixin
    DistributedOptions dist = new DistributedOptions();
    @Option(names = "--out", defaultValue = "runs/finetune", description = "Output folder.")
    Path out;

    @Override public Path out() { return out; }
    @Override public List<String> args() { return spec.root().commandLine().getParseResult().originalArgs(); }

    @Override
    public Integer call() throws IOException {
        if (eval != null) return evaluate(eval);
        // checked here, naming the flags (the library's records name their fields), before anything is loaded
        for (Object[] p : new Object[][] {{"--reprob", reprob}, {"--mixup-prob", mixupProb}, {"--mixup-switch-prob", mixupSwitchProb}}) {
            double v = (double) p[1];
            if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(p[0] + " must be a probability in [0, 1], got " + v);
        }
        if (!(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("--smoothing must be in [0, 1), got " + smoothing);
        if (!(mixupAlpha >= 0 && Double.isFinite(mixupAlpha))) throw new IllegalArgumentException("--mixup must be >= 0 and finite, got " + mixupAlpha);
        if (!(cutmixAlpha >= 0 && Double.isFinite(cutmixAlpha))) throw new IllegalArgumentException("--cutmix must be >= 0 and finite, got " + cutmixAlpha);
        // the default warmup is cut to a shorter run's --epochs; a warmup given that long is a mistake to say, not to cut
        if (run.resume == null && spec.commandLine().getParseResult().hasMatchedOption("--warmup-epochs") && warmupEpochs > epochs) {
            throw new IllegalArgumentException("--warmup-epochs " + warmupEpochs + " is longer than the run (--epochs " + epochs + ")");
        }
        if (run.resume != null && (inputs.weights != null || inputs.randomInit)) {
            throw new IllegalArgumentException("--resume " + run.resume + " continues the classifier of its checkpoint: give no --weights or --random-init");
        }
        dist.validate();
        return dist.run(spec.root().commandLine().getParseResult().originalArgs(), this::train);
    }

    private int train(Collective collective) throws IOException {
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        VitClassifier model;
        Resumed resumed = null;
        Normalization norm;
        String encoder;
        if (run.resume != null) {
            resumed = new Resumed(Checkpoint.load(run.resume), spec.commandLine().getParseResult(), run.changeSchedule, run.resume);
            Checkpoint.Contents c = resumed.checkpoint();
            model = classifier(c, kernels, run.resume);
            run.seed = resumed.identity("--seed", "seed", run.seed);
            batch = resumed.identity("--batch", "batch", batch);
            run.accum = resumed.identity("--accum", "accum", run.accum);
            inputs.data = resumed.identity("--data", "data", inputs.data);
            inputs.limit = resumed.identity("--limit", "limit", inputs.limit);
            valFraction = resumed.identity("--val-fraction", "val_fraction", valFraction);
            smoothing = resumed.identity("--smoothing", "smoothing", smoothing);
            weightDecay = resumed.identity("--weight-decay", "weight_decay", weightDecay);
            clipGrad = resumed.identity("--clip-grad", "clip_grad", clipGrad);
            layerDecay = resumed.identity("--layer-decay", "layer_decay", layerDecay);
            mixupAlpha = resumed.identity("--mixup", "mixup", mixupAlpha);
            cutmixAlpha = resumed.identity("--cutmix", "cutmix", cutmixAlpha);
            mixupProb = resumed.identity("--mixup-prob", "mixup_prob", mixupProb);
            mixupSwitchProb = resumed.identity("--mixup-switch-prob", "mixup_switch_prob", mixupSwitchProb);
            reprob = resumed.identity("--reprob", "reprob", reprob);
            cropScale = resumed.identity("--crop-scale", "crop_scale", cropScale);
            aa = resumed.identity("--aa", "aa", aa);
            resumed.requireSame("--drop-path", "drop path", model.spec().dropPath(), dropPath);
            resumed.requireSame("--cls-token", "the head's pooling", model.spec().pooling(), VitClassifier.Pooling.CLS_TOKEN);
            epochs = resumed.schedule("--epochs", "epochs", epochs);
            blr = resumed.schedule("--blr", "blr", blr);
            minLr = resumed.schedule("--min-lr", "min_lr", minLr);
            warmupEpochs = resumed.schedule("--warmup-epochs", "warmup_epochs", warmupEpochs);
            Augment given = normalization.apply(Augment.mae(c.config().channels()));
            norm = c.normalization() != null ? c.normalization() : new Normalization(given.mean(), given.std());
            if (c.normalization() != null) normalization.requireSameAs(c.normalization(), run.resume);
            encoder = c.provenance().getOrDefault("encoder", run.resume.toString());
        } else {
            PretrainedWeights.Loaded w = inputs.encoder(run.seed);
            Finite.requireWeights(w.params(), inputs.describe(run.seed));
            ImageDataset all = inputs.train(w.config());
            int classes = Math.max(all.classNames().size(), 2);
            if (clsToken && globalPool) throw new IllegalArgumentException("--cls-token and --global-pool exclude each other");
            VitClassifier.Spec spec = new VitClassifier.Spec(classes, clsToken ? VitClassifier.Pooling.CLS_TOKEN : VitClassifier.Pooling.GLOBAL_AVERAGE, dropPath);
            model = VitClassifier.fromEncoder(w.config(), w.params(), spec, kernels, new Random(run.seed));
            Augment a = normalization.apply(Augment.mae(w.config().channels()));
            norm = new Normalization(a.mean(), a.std());
            encoder = inputs.describe(run.seed);
        }
        MaeConfig cfg = model.config();
        ImageDataset all = inputs.train(cfg), test = inputs.test(cfg);
        Split[] parts = Split.holdOut(all, valFraction, run.seed);
        ImageDataset train = parts[0], val = parts[1];
        if (!(cropScale > 0 && cropScale <= 1)) throw new IllegalArgumentException("--crop-scale must be in (0, 1], got " + cropScale);
        Transform augment = new FineTuneTransform(FineTuneTransform.crop(cropScale, norm.mean(), norm.std()),
                RandAugmentPolicy.parse(aa, norm, cfg.channels()), reprob > 0 ? RandomErasing.of(reprob) : RandomErasing.off());
        Mixup mixup = new Mixup(mixupAlpha, cutmixAlpha, mixupSwitchProb, mixupProb, smoothing, true);
        AdamW optimizer = new AdamW(model.params(), kernels, AdamW.Hyper.finetune().withWeightDecay(weightDecay),
                ParamGroups.layerDecay(model.params().entries(), layerDecay, weightDecay, cfg.encoder().depth(), ParamGroups.VIT_NO_WEIGHT_DECAY));
        TrainingState start = resumed == null ? TrainingState.start(run.seed) : Trainer.restore(optimizer, resumed.checkpoint(), run.resume);
        Trainer.Options options = new Trainer.Options(epochs, batch, run.accum, blr, minLr, Math.min(warmupEpochs, epochs), run.seed,
                run.saveEvery, run.maxSteps, clipGrad);
        Map<String, String> recipe = new LinkedHashMap<>();
        recipe.put("data", inputs.data);
        recipe.put("limit", Integer.toString(inputs.limit));
        recipe.put("val_fraction", Double.toString(valFraction));
        recipe.put("smoothing", Double.toString(smoothing));
        recipe.put("weight_decay", Double.toString(weightDecay));
        recipe.put("layer_decay", Double.toString(layerDecay));
        recipe.put("mixup", Double.toString(mixupAlpha));
        recipe.put("cutmix", Double.toString(cutmixAlpha));
        recipe.put("mixup_prob", Double.toString(mixupProb));
        recipe.put("mixup_switch_prob", Double.toString(mixupSwitchProb));
        recipe.put("reprob", Double.toString(reprob));
        recipe.put("crop_scale", Double.toString(cropScale));
        recipe.put("aa", aa);
        Map<String, String> provenance = Provenance.of("finetune", kernels);
        provenance.put("transform", augment.toString());
        provenance.put("data", all.toString());
        provenance.put("encoder", encoder);
        System.out.printf(Locale.ROOT, "fine-tuning %s: %d classes, %d train / %d validation / %d test images, lr %.3g%n", encoder, model.classes(),
                train.size(), val.size(), test.size(), options.absoluteLr());

        int code;
        // built before the folder is touched: a batch that cannot fit is refused with nothing written
        Trainer trainer = new Trainer(new FineTuning(model, mixup, smoothing, all.classNames()), optimizer, TrainData.images(train, augment), options)
                .describe(norm, provenance, recipe).distributed(collective);
        // data parallel: only rank 0 writes, scores the held-out part and keeps the best epoch; the others train
        if (collective.rank() != 0) return TrainingCommand.train(trainer, start, this, "finetune");
        try (RunFolder folder = RunFolder.open(out, resumed == null ? null : start, Provenance.startRow(provenance))) {
            if (resumed != null) folder.restoreBest(resumed.checkpoint().provenance());
            trainer.run(folder)
                    .evaluate(epoch -> {
                        Classification s = Classification.score(model, val, norm, Math.max(batch, 64));
                        return Map.of("val_top1", s.top1(), "val_top5", s.top5());
                    }, "val_top1")
                    .listen(new Progress(System.out, System.console() != null, epochs));
            code = TrainingCommand.train(trainer, start, this, "finetune");
            if (code != 0) return code;
            if (run.maxSteps > 0 && Files.exists(folder.checkpoint()) && TrainingState.of(Checkpoint.load(folder.checkpoint()).state()).epoch() < epochs) {
                return 0;   // stopped early: the test set waits for the end of the run
            }
            Path best = Files.exists(folder.best()) ? folder.best() : folder.checkpoint();
            Classification s = score(best, test, kernels);
            folder.metrics().row("test", Map.of("checkpoint", best.getFileName().toString(), "test_top1", s.top1(), "test_top5", s.top5()));
            report(best, s, test, all.classNames());
        }
        return 0;
    }

    /** --eval: scores a saved classifier on the test set. */
    private int evaluate(Path checkpoint) throws IOException {
        Checkpoint.Contents c = Checkpoint.load(checkpoint);
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        VitClassifier model = classifier(c, kernels, checkpoint);
        ImageDataset test = inputs.test(model.config());
        Normalization norm = c.normalization() != null ? c.normalization() : Normalization.defaultFor(model.config().channels());
        Classification s = Classification.score(model, test, norm, Math.max(batch, 64));
        Files.createDirectories(out);
        report(checkpoint, s, test, classNames(c));
        return 0;
    }

    private Classification score(Path checkpoint, ImageDataset test, Kernels kernels) throws IOException {
        Checkpoint.Contents c = Checkpoint.load(checkpoint);
        Normalization norm = c.normalization() != null ? c.normalization() : Normalization.defaultFor(c.config().channels());
        return Classification.score(classifier(c, kernels, checkpoint), test, norm, Math.max(batch, 64));
    }

    private void report(Path checkpoint, Classification s, ImageDataset test, List<String> names) throws IOException {
        System.out.printf(Locale.ROOT, "test set (%d images) with %s: top-1 %.2f%%, top-5 %.2f%%%n", test.size(), checkpoint, 100 * s.top1(), 100 * s.top5());
        ConfusionMatrix.write(out.resolve("confusion.png"), String.format(Locale.ROOT, "test set, %s: top-1 %.2f%%", checkpoint.getFileName(), 100 * s.top1()),
                s.confusion(), names.size() == s.confusion().length ? names : List.of());
        Json.write(out.resolve("finetune.json"), Map.of("checkpoint", checkpoint.toString(), "test_images", test.size(),
                "test_top1", s.top1(), "test_top5", s.top5()));
    }

    /** The classifier a finetune checkpoint holds. */
    static VitClassifier classifier(Checkpoint.Contents c, Kernels kernels, Path source) {
        if (!c.kind().equals("finetune")) throw new IllegalArgumentException(source + " is a " + c.kind() + " checkpoint, not a fine-tuned classifier");
        Finite.requireWeights(c.params(), source);
        return new VitClassifier(c.config(), FineTuning.spec(c.model(), source), c.params(), kernels);
    }

    private static List<String> classNames(Checkpoint.Contents c) {
        String s = c.model().get("class_names");
        return s == null || s.isEmpty() ? List.of() : Arrays.asList(s.split(","));
    }
}
