package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.config.Normalization;
import org.mae4j.data.Augment;
import org.mae4j.data.Mixup;
import org.mae4j.data.Transform;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.Split;
import org.mae4j.engine.Kernels;
import org.mae4j.examples.viz.ConfusionMatrix;
import org.mae4j.finetune.Classification;
import org.mae4j.finetune.FineTuning;
import org.mae4j.finetune.FinetuneRecipe;
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
import picocli.CommandLine;
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
import java.util.function.Function;

/**
 * {@code ./mae finetune}: the encoder plus a classification head, all trained on the training engine; the
 * best epoch on a validation split held out of the training data is kept (checkpoint-best.zip) beside the
 * last (checkpoint.zip), and the test set is scored once, at the end, with the best. {@code --eval} scores a
 * saved classifier. The recipe is a named {@link FinetuneRecipe} ({@code --recipe}; by default the reference's
 * {@code main_finetune.py}: global pool + fc_norm head, layer-wise lr decay, AdamW (0.9, 0.999), drop path,
 * RandAugment, random erasing, Mixup/CutMix with label smoothing, warmup + cosine) with the given options over it;
 * {@code --trainable-blocks} fine-tunes only the last blocks. Writes metrics.jsonl, finetune.json and confusion.png into --out.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true, showDefaultValues = true, modelTransformer = FinetuneCommand.RecipeTable.class,
        description = "Fine-tune the encoder with a classification head; choose the best epoch on a validation split; score the test set.")
public final class FinetuneCommand implements Callable<Integer>, TrainingCommand {
    @Spec CommandSpec spec;
    @Mixin
    EncoderAndData inputs = new EncoderAndData();
    @Option(names = "--recipe", defaultValue = FinetuneRecipe.REFERENCE, description = "Named recipe: reference (the paper's main_finetune.py, "
            + "for large images and many epochs) or small-images (pad-2 crop + flip, no Mixup / CutMix / RandAugment / erasing: small images, few labels). "
            + "Each option below that is given overrides its knob; the table at the end shows what each recipe sets.")
    String recipeName;
    // null: not given, the --recipe's value (FinetuneRecipe is the one place the defaults live)
    @Option(names = "--epochs", description = "Total epochs. Default: from --recipe.")
    Integer epochs;
    @Option(names = "--batch", description = "Images per step. Default: from --recipe.")
    Integer batch;
    @Option(names = "--blr", description = "Base learning rate: lr = blr x effective batch / 256. Default: from --recipe.")
    Double blr;
    @Option(names = "--min-lr", description = "Lower bound of the cosine schedule. Default: from --recipe.")
    Double minLr;
    @Option(names = "--warmup-epochs", description = "Epochs of linear warmup (at most --epochs). Default: from --recipe.")
    Double warmupEpochs;
    @Option(names = "--smoothing", description = "Label smoothing. Default: from --recipe.")
    Double smoothing;
    @Option(names = "--layer-decay", description = "Layer-wise lr decay: block i's lr is scaled by layer_decay^(depth + 1 - (i + 1)). Default: from --recipe.")
    Double layerDecay;
    @Option(names = "--drop-path", description = "Stochastic depth rate of the last block (linear from 0 over the depth). Default: from --recipe.")
    Double dropPath;
    @Option(names = "--mixup", description = "Mixup alpha (0 = off). Default: from --recipe.")
    Double mixupAlpha;
    @Option(names = "--cutmix", description = "CutMix alpha (0 = off). Default: from --recipe.")
    Double cutmixAlpha;
    @Option(names = "--mixup-prob", description = "Probability of mixing a batch at all. Default: from --recipe.")
    Double mixupProb;
    @Option(names = "--mixup-switch-prob", description = "Probability of CutMix instead of Mixup when both are on. Default: from --recipe.")
    Double mixupSwitchProb;
    @Option(names = "--crop-scale", description = "RandomResizedCrop with this smallest area fraction (timm's 0.08 is made for 224 px; "
            + "small images may want more). Default: from --recipe.")
    Double cropScale;
    @Option(names = "--crop-padding", description = "Pad by this many pixels (black) and crop the original size at a random place, instead of "
            + "RandomResizedCrop. Default: from --recipe.")
    Integer cropPadding;
    @Option(names = "--reprob", description = "Random erasing probability (per-pixel normal values, timm's 'pixel' mode). Default: from --recipe.")
    Double reprob;
    @Option(names = "--aa", description = "RandAugment policy (timm syntax), or 'none'. Default: from --recipe.")
    String aa;
    @Option(names = "--cls-token", description = "Classify from the cls token after the final norm instead of the reference's global pool + fc_norm.")
    boolean clsToken;
    @Option(names = "--global-pool", description = "Global average pool of the patch tokens + fc_norm (the reference's default; the opposite of --cls-token).")
    boolean globalPool;
    @Option(names = "--weight-decay", description = "AdamW weight decay. Default: from --recipe.")
    Double weightDecay;
    @Option(names = "--clip-grad", description = "Clip the gradient's global L2 norm to this (0 = off, as the reference). Default: from --recipe.")
    Double clipGrad;
    @Option(names = "--val-fraction", description = "Fraction of the training data held out to choose the best epoch (never the test set). Default: from --recipe.")
    Double valFraction;
    @Option(names = "--trainable-blocks", paramLabel = "K|all", description = "Partial fine-tuning: only the last K encoder blocks, the final norm / fc_norm "
            + "and the head train (0: the head alone); patch embedding, cls token, positions and the blocks below stay frozen. "
            + "'all': full fine-tuning. Default: from --recipe.")
    String trainableBlocks;
    @Mixin
    LabelOptions labels = new LabelOptions();
    @Option(names = "--val-every", defaultValue = "1", description = "Score the validation split every N epochs and at the last (the best epoch is "
            + "chosen among those): with few labels and many epochs the scoring of the held-out images costs more than the training.")
    int valEvery;
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
    @Option(names = "--force", description = "With --eval: replace confusion.png and finetune.json in an --out folder that is not a finetune run's.")
    boolean force;
    /** The files it writes into --out beside RunFolder's. */
    private static final java.util.regex.Pattern FILES = java.util.regex.Pattern.compile("confusion\\.png|finetune\\.json");

    @Override public Path out() { return out; }
    @Override public List<String> args() { return spec.root().commandLine().getParseResult().originalArgs(); }

    /** The --recipe preset with every given knob option applied over it. */
    FinetuneRecipe recipe() {
        FinetuneRecipe r = FinetuneRecipe.preset(recipeName);
        if (epochs != null) r = r.withEpochs(epochs);
        if (batch != null) r = r.withBatch(batch);
        if (blr != null) r = r.withBlr(blr);
        if (minLr != null) r = r.withMinLr(minLr);
        if (warmupEpochs != null) r = r.withWarmupEpochs(warmupEpochs);
        if (smoothing != null) r = r.withSmoothing(smoothing);
        if (layerDecay != null) r = r.withLayerDecay(layerDecay);
        if (dropPath != null) r = r.withDropPath(dropPath);
        if (mixupAlpha != null) r = r.withMixup(mixupAlpha);
        if (cutmixAlpha != null) r = r.withCutmix(cutmixAlpha);
        if (mixupProb != null) r = r.withMixupProb(mixupProb);
        if (mixupSwitchProb != null) r = r.withMixupSwitchProb(mixupSwitchProb);
        if (cropScale != null && cropPadding != null) throw new IllegalArgumentException("--crop-scale and --crop-padding exclude each other (one crop per run)");
        if (cropScale != null) r = r.withCrop(FinetuneRecipe.Crop.resized(cropScale));
        if (cropPadding != null) r = r.withCrop(FinetuneRecipe.Crop.padded(cropPadding));
        if (reprob != null) r = r.withReprob(reprob);
        if (aa != null) r = r.withRandAugment(aa);
        if (clsToken && globalPool) throw new IllegalArgumentException("--cls-token and --global-pool exclude each other");
        if (clsToken) r = r.withPooling(VitClassifier.Pooling.CLS_TOKEN);
        if (globalPool) r = r.withPooling(VitClassifier.Pooling.GLOBAL_AVERAGE);
        if (weightDecay != null) r = r.withWeightDecay(weightDecay);
        if (clipGrad != null) r = r.withClipGrad(clipGrad);
        if (valFraction != null) r = r.withValFraction(valFraction);
        if (trainableBlocks != null) r = r.withTrainableBlocks(parseTrainableBlocks(trainableBlocks));
        return r;
    }

    private static int parseTrainableBlocks(String text) {
        try {
            return FinetuneRecipe.parseTrainableBlocks(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--trainable-blocks " + text + ": must be 'all' or a number of blocks >= 0");
        }
    }

    /**
     * A resumed run's recipe: the checkpoint's value of every knob that was not given; a given knob that fixes the
     * run's identity must agree with it, a schedule knob needs --change-schedule (as {@link Resumed} says).
     * Checkpoints from before named recipes ran the reference's.
     */
    private FinetuneRecipe resumed(FinetuneRecipe r, Resumed s, VitClassifier model) {
        Map<String, String> saved = s.checkpoint().options();
        String cropOption = cropPadding != null ? "--crop-padding" : "--crop-scale";
        String oldCrop = saved.containsKey("crop_scale") ? FinetuneRecipe.Crop.resized(Double.parseDouble(saved.get("crop_scale"))).text() : null;
        s.requireSame("--drop-path", "drop path", model.spec().dropPath(), r.dropPath());
        s.requireSame("--cls-token", "the head's pooling", model.spec().pooling(), VitClassifier.Pooling.CLS_TOKEN);
        s.requireSame("--global-pool", "the head's pooling", model.spec().pooling(), VitClassifier.Pooling.GLOBAL_AVERAGE);
        s.requireSame("--trainable-blocks", "trainable blocks", FinetuneRecipe.trainableBlocksText(model.spec().trainableBlocks()),
                FinetuneRecipe.trainableBlocksText(r.trainableBlocks()));
        return r.withName(s.identity("--recipe", "recipe", r.name(), FinetuneRecipe.REFERENCE))
                .withBatch(s.identity("--batch", "batch", r.batch()))
                .withValFraction(s.identity("--val-fraction", "val_fraction", r.valFraction()))
                .withSmoothing(s.identity("--smoothing", "smoothing", r.smoothing()))
                .withWeightDecay(s.identity("--weight-decay", "weight_decay", r.weightDecay()))
                .withClipGrad(s.identity("--clip-grad", "clip_grad", r.clipGrad()))
                .withLayerDecay(s.identity("--layer-decay", "layer_decay", r.layerDecay()))
                .withMixup(s.identity("--mixup", "mixup", r.mixup()))
                .withCutmix(s.identity("--cutmix", "cutmix", r.cutmix()))
                .withMixupProb(s.identity("--mixup-prob", "mixup_prob", r.mixupProb()))
                .withMixupSwitchProb(s.identity("--mixup-switch-prob", "mixup_switch_prob", r.mixupSwitchProb()))
                .withReprob(s.identity("--reprob", "reprob", r.reprob()))
                .withCrop(FinetuneRecipe.Crop.parse(s.identity(cropOption, "crop", r.crop().text(), oldCrop)))
                .withRandAugment(s.identity("--aa", "aa", r.randAugment()))
                .withDropPath(model.spec().dropPath())
                .withPooling(model.spec().pooling())
                .withTrainableBlocks(model.spec().trainableBlocks())
                .withEpochs(s.schedule("--epochs", "epochs", r.epochs()))
                .withBlr(s.schedule("--blr", "blr", r.blr()))
                .withMinLr(s.schedule("--min-lr", "min_lr", r.minLr()))
                .withWarmupEpochs(s.schedule("--warmup-epochs", "warmup_epochs", r.warmupEpochs()));
    }

    /** The --help footer: what each named recipe sets, from the presets themselves. */
    static final class RecipeTable implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            List<FinetuneRecipe> presets = FinetuneRecipe.presetNames().stream().map(FinetuneRecipe::preset).toList();
            Map<String, Function<FinetuneRecipe, Object>> knobs = new LinkedHashMap<>();
            knobs.put("--epochs", FinetuneRecipe::epochs);
            knobs.put("--batch", FinetuneRecipe::batch);
            knobs.put("--blr", FinetuneRecipe::blr);
            knobs.put("--min-lr", FinetuneRecipe::minLr);
            knobs.put("--warmup-epochs", FinetuneRecipe::warmupEpochs);
            knobs.put("--smoothing", FinetuneRecipe::smoothing);
            knobs.put("--layer-decay", FinetuneRecipe::layerDecay);
            knobs.put("--drop-path", FinetuneRecipe::dropPath);
            knobs.put("--mixup", FinetuneRecipe::mixup);
            knobs.put("--cutmix", FinetuneRecipe::cutmix);
            knobs.put("--mixup-prob", FinetuneRecipe::mixupProb);
            knobs.put("--mixup-switch-prob", FinetuneRecipe::mixupSwitchProb);
            knobs.put("crop", x -> x.crop() instanceof FinetuneRecipe.Crop.Padded p ? "--crop-padding " + p.padding()
                    : "--crop-scale " + ((FinetuneRecipe.Crop.Resized) x.crop()).minScale());
            knobs.put("--reprob", FinetuneRecipe::reprob);
            knobs.put("--aa", FinetuneRecipe::randAugment);
            knobs.put("pooling", x -> x.pooling() == VitClassifier.Pooling.CLS_TOKEN ? "--cls-token" : "--global-pool");
            knobs.put("--weight-decay", FinetuneRecipe::weightDecay);
            knobs.put("--clip-grad", FinetuneRecipe::clipGrad);
            knobs.put("--val-fraction", FinetuneRecipe::valFraction);
            knobs.put("--trainable-blocks", x -> FinetuneRecipe.trainableBlocksText(x.trainableBlocks()));
            List<String> lines = new java.util.ArrayList<>();
            lines.add("");
            lines.add("What each --recipe sets (an option given on the command line wins):");
            StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "  %-20s", ""));
            for (FinetuneRecipe p : presets) head.append(String.format(Locale.ROOT, "%-24s", p.name()));
            lines.add(head.toString().stripTrailing());
            knobs.forEach((option, get) -> {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-20s", option));
                for (FinetuneRecipe p : presets) row.append(String.format(Locale.ROOT, "%-24s", get.apply(p)));
                lines.add(row.toString().stripTrailing());
            });
            spec.usageMessage().footer(lines.toArray(String[]::new));
            return spec;
        }
    }

    @Override
    public Integer call() throws IOException {
        Outputs outputs = inputs.outputs(force).input("--eval", eval).input("--resume", run.resume);
        if (eval != null) {
            outputs.fileOfRun("--out", out.resolve("confusion.png"), "finetune");
            outputs.fileOfRun("--out", out.resolve("finetune.json"), "finetune");
            return evaluate(eval);
        }
        if (force) throw new IllegalArgumentException("--force is for --eval's files: a training run's folder is never forced (--resume continues it)");
        // checked here, naming the flags (the recipe record names its knobs), before anything is loaded
        for (Object[] p : new Object[][] {{"--reprob", reprob}, {"--mixup-prob", mixupProb}, {"--mixup-switch-prob", mixupSwitchProb}}) {
            if (p[1] == null) continue;
            double v = (double) p[1];
            if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException(p[0] + " must be a probability in [0, 1], got " + v);
        }
        if (smoothing != null && !(smoothing >= 0 && smoothing < 1)) throw new IllegalArgumentException("--smoothing must be in [0, 1), got " + smoothing);
        if (mixupAlpha != null && !(mixupAlpha >= 0 && Double.isFinite(mixupAlpha))) throw new IllegalArgumentException("--mixup must be >= 0 and finite, got " + mixupAlpha);
        if (cutmixAlpha != null && !(cutmixAlpha >= 0 && Double.isFinite(cutmixAlpha))) throw new IllegalArgumentException("--cutmix must be >= 0 and finite, got " + cutmixAlpha);
        // the default warmup is cut to a shorter run's --epochs; a warmup given that long is a mistake to say, not to cut
        if (run.resume == null && warmupEpochs != null && warmupEpochs > recipe().epochs()) {
            throw new IllegalArgumentException("--warmup-epochs " + warmupEpochs + " is longer than the run (--epochs " + recipe().epochs() + ")");
        }
        if (run.resume != null && (inputs.weights != null || inputs.randomInit)) {
            throw new IllegalArgumentException("--resume " + run.resume + " continues the classifier of its checkpoint: give no --weights or --random-init");
        }
        dist.validate();
        if (Outputs.writer(dist)) outputs.runFolder("--out", out, "finetune", run.resume, FILES);
        return dist.run(spec.root().commandLine().getParseResult().originalArgs(), this::train);
    }

    private int train(Collective collective) throws IOException {
        if (valEvery < 1) throw new IllegalArgumentException("--val-every must be >= 1, got " + valEvery);
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        FinetuneRecipe r = recipe();
        VitClassifier model;
        Resumed resumed = null;
        Normalization norm;
        String encoder;
        if (run.resume != null) {
            resumed = new Resumed(org.mae4j.mae.ConfigFit.loadCheckpoint(run.resume), spec.commandLine().getParseResult(), run.changeSchedule, run.resume);
            Checkpoint.Contents c = resumed.checkpoint();
            model = classifier(c, kernels, run.resume);
            run.seed = resumed.identity("--seed", "seed", run.seed);
            run.accum = resumed.identity("--accum", "accum", run.accum);
            inputs.data = resumed.identity("--data", "data", inputs.data);
            inputs.limit = resumed.identity("--limit", "limit", inputs.limit);
            r = resumed(r, resumed, model);
            labels.resume(resumed);
            valEvery = Integer.parseInt(resumed.identity("--val-every", "val_every", Integer.toString(valEvery), "1"));
            Augment given = normalization.apply(Augment.mae(c.config().channels()));
            norm = c.normalization() != null ? c.normalization() : new Normalization(given.mean(), given.std());
            if (c.normalization() != null) normalization.requireSameAs(c.normalization(), run.resume);
            encoder = c.provenance().getOrDefault("encoder", run.resume.toString());
        } else {
            labels.amount();   // a bad --labels is refused before the weights load
            PretrainedWeights.Loaded w = inputs.encoder(run.seed);
            Finite.requireWeights(w.params(), inputs.describe(run.seed));
            ImageDataset all = inputs.train(w.config());
            int classes = Math.max(all.classNames().size(), 2);
            model = VitClassifier.fromEncoder(w.config(), w.params(), r.spec(classes), kernels, new Random(run.seed));
            Augment a = normalization.apply(Augment.mae(w.config().channels()));
            norm = new Normalization(a.mean(), a.std());
            encoder = inputs.describe(run.seed);
        }
        MaeConfig cfg = model.config();
        ImageDataset all = inputs.train(cfg), test = inputs.test(cfg, all.classNames());
        Split[] parts = labels.holdOut(all, r.valFraction(), run.seed);
        ImageDataset train = labels.labelled(parts[0], all.size()), val = parts[1];
        Transform augment = r.transform(norm);
        Mixup mixup = r.mixupOf();
        AdamW optimizer = new AdamW(model.params(), kernels, AdamW.Hyper.finetune().withWeightDecay(r.weightDecay()),
                r.paramGroups(model.params(), cfg.encoder().depth()));
        TrainingState start = resumed == null ? TrainingState.start(run.seed) : Trainer.restore(optimizer, resumed.checkpoint(), run.resume);
        Trainer.Options options = r.options(run.accum, run.seed, run.saveEvery, run.maxSteps);
        Map<String, String> recipe = new LinkedHashMap<>();
        recipe.put("data", inputs.data);
        recipe.put("limit", Integer.toString(inputs.limit));
        recipe.putAll(r.asMap());   // the recipe's name and knobs, under the keys earlier checkpoints used
        recipe.putAll(labels.recorded());
        if (valEvery != 1) recipe.put("val_every", Integer.toString(valEvery));   // recorded only when given: older checkpoints stay as they were
        Map<String, String> provenance = Provenance.of("finetune", kernels);
        provenance.put("transform", augment.toString());
        provenance.put("data", all.toString());
        provenance.put("encoder", encoder);
        provenance.putAll(labels.recorded());
        int scoreBatch = Math.max(r.batch(), 64), lastEpoch = r.epochs();
        System.out.printf(Locale.ROOT, "fine-tuning %s (recipe %s%s): %d classes, %d train / %d validation / %d test images, lr %.3g%n", encoder, r.name(),
                r.trainableBlocks() == FinetuneRecipe.ALL_BLOCKS ? "" : ", last " + r.trainableBlocks() + " blocks trained", model.classes(),
                train.size(), val.size(), test.size(), options.absoluteLr());

        int code;
        // built before the folder is touched: a batch that cannot fit is refused with nothing written
        Trainer trainer = new Trainer(new FineTuning(model, mixup, r.smoothing(), all.classNames()), optimizer, TrainData.images(train, augment), options)
                .describe(norm, provenance, recipe).distributed(collective);
        // data parallel: only rank 0 writes, scores the held-out part and keeps the best epoch; the others train
        if (collective.rank() != 0) return TrainingCommand.train(trainer, start, this, "finetune");
        try (RunFolder folder = RunFolder.open(out, resumed == null ? null : start, Provenance.startRow(provenance))) {
            if (resumed != null) folder.restoreBest(resumed.checkpoint().provenance());
            trainer.run(folder)
                    .evaluate(epoch -> {
                        if ((epoch + 1) % valEvery != 0 && epoch + 1 != lastEpoch) return Map.of();
                        Classification s = Classification.score(model, val, norm, scoreBatch);
                        return Map.of("val_top1", s.top1(), "val_top5", s.top5());
                    }, "val_top1")
                    .listen(new Progress(System.out, System.console() != null, r.epochs()));
            code = TrainingCommand.train(trainer, start, this, "finetune");
            if (code != 0) return code;
            if (run.maxSteps > 0 && Files.exists(folder.checkpoint()) && TrainingState.of(org.mae4j.mae.ConfigFit.loadCheckpoint(folder.checkpoint()).state()).epoch() < r.epochs()) {
                return 0;   // stopped early: the test set waits for the end of the run
            }
            Path best = Files.exists(folder.best()) ? folder.best() : folder.checkpoint();
            Classification s = score(best, test, kernels, scoreBatch);
            folder.metrics().row("test", Map.of("checkpoint", best.getFileName().toString(), "test_top1", s.top1(), "test_top5", s.top5()));
            report(best, s, test, all.classNames());
        }
        return 0;
    }

    /** --eval: scores a saved classifier on the test set. */
    private int evaluate(Path checkpoint) throws IOException {
        if (labels.given()) throw new IllegalArgumentException("--labels chooses training images; --eval only scores the test set");
        Checkpoint.Contents c = org.mae4j.mae.ConfigFit.loadCheckpoint(checkpoint);
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        VitClassifier model = classifier(c, kernels, checkpoint);
        ImageDataset test = inputs.test(model.config(), classNames(c));
        Normalization norm = c.normalization() != null ? c.normalization() : Normalization.defaultFor(model.config().channels());
        Classification s = Classification.score(model, test, norm, Math.max(recipe().batch(), 64));
        Files.createDirectories(out);
        report(checkpoint, s, test, classNames(c));
        return 0;
    }

    private Classification score(Path checkpoint, ImageDataset test, Kernels kernels, int batch) throws IOException {
        Checkpoint.Contents c = org.mae4j.mae.ConfigFit.loadCheckpoint(checkpoint);
        Normalization norm = c.normalization() != null ? c.normalization() : Normalization.defaultFor(c.config().channels());
        return Classification.score(classifier(c, kernels, checkpoint), test, norm, batch);
    }

    private void report(Path checkpoint, Classification s, ImageDataset test, List<String> names) throws IOException {
        System.out.printf(Locale.ROOT, "test set (%d images) with %s: top-1 %.2f%%, top-5 %.2f%%%n", test.size(), checkpoint, 100 * s.top1(), 100 * s.top5());
        ConfusionMatrix.write(out.resolve("confusion.png"), String.format(Locale.ROOT, "test set, %s: top-1 %.2f%%", checkpoint.getFileName(), 100 * s.top1()),
                s.confusion(), names.size() == s.confusion().length ? names : List.of());
        Map<String, Object> result = new LinkedHashMap<>(Map.of("checkpoint", checkpoint.toString(), "test_images", test.size(),
                "test_top1", s.top1(), "test_top5", s.top5()));
        result.putAll(labels.json());
        Json.write(out.resolve("finetune.json"), result);
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
