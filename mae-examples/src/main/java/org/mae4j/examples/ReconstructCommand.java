package org.mae4j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.config.MaeConfig;
import org.mae4j.data.Augment;
import org.mae4j.data.ImageDataset;
import org.mae4j.data.ImageFolder;
import org.mae4j.engine.Kernels;
import org.mae4j.io.Npy;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.mae.MaeOutput;
import org.mae4j.mae.MaskedAutoencoder;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ./mae reconstruct}: load weights from anywhere mae4j reads them, mask some images with a seed (or with
 * the exact noise a PyTorch run used), and draw the reference demo's four-panel reconstruction grid.
 */
@Command(name = "reconstruct", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Reconstruct masked images with trained weights and write the picture grid.")
public final class ReconstructCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--weights", required = true,
            description = "A mae4j checkpoint (.zip), a .safetensors file (official or HuggingFace names; config.json beside it is read), "
                    + "a HuggingFace model folder (config.json + model.safetensors), or a folder of <key>.npy files.")
    Path weights;
    @Option(names = "--preset", description = "Model config for weights that carry none (.npy folders, bare .safetensors): ${COMPLETION-CANDIDATES}.",
            completionCandidates = PretrainCommand.Presets.class)
    String preset;

    @ArgGroup(exclusive = true)
    Input input = new Input();

    static final class Input {
        @Option(names = "--images", arity = "1..*", description = "PNG/JPEG files (centre-cropped, resized to the model's size).")
        List<Path> files;
        @Option(names = "--images-npy", description = "Already normalized images [N, C, H, W] as .npy (e.g. saved from a PyTorch pipeline).")
        Path npy;
        @Option(names = "--data", description = "A dataset as for pretrain --data (default: fashion-mnist-test for 1-channel 28px models).")
        String data;
    }

    @Option(names = "--indices", split = ",", defaultValue = "0,1,2,3,4,5,6,7", description = "Dataset indices to show, with --data.")
    int[] indices;
    @Option(names = "--mask-ratio", description = "Fraction of patches hidden (default: the model's).")
    Double maskRatio;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random mask.")
    long seed;
    @Option(names = "--noise", description = "Noise [N, L] as .npy instead of --seed: the patches with the smallest noise are kept, as in the reference.")
    Path noise;
    @picocli.CommandLine.Mixin
    NormalizationOptions normalization = new NormalizationOptions();
    @Option(names = "--out", defaultValue = "reconstruction.png", description = "The PNG to write.")
    Path out;
    @Option(names = "--json", description = "Also write the loss and the mask as JSON to this file.")
    Path json;
    @Option(names = "--force", description = "Replace existing output files.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        Outputs outputs = Outputs.of(force).input("--weights", weights).inputs("--images", input.files).input("--images-npy", input.npy)
                .data("--data", input.data).input("--noise", noise);
        outputs.file("--out", out);
        if (json != null) outputs.file("--json", json);
        // the picture is written by ImageIO as PNG whatever the name says: a .jpg of PNG bytes is a file no viewer trusts
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--out " + out + ": reconstruct writes a PNG picture; name a .png file");
        }
        if ((input.files != null || input.npy != null) && spec != null && spec.commandLine().getParseResult().hasMatchedOption("--indices")) {
            throw new IllegalArgumentException("--indices picks images of --data; with " + (input.files != null ? "--images" : "--images-npy") + " every image given is shown");
        }
        MaeConfig fallback = preset == null ? null : MaeConfig.preset(preset);
        PretrainedWeights.Loaded w = PretrainedWeights.load(weights, fallback).requireDecoder(weights);
        Finite.requireWeights(w.params(), "--weights " + weights);
        MaeConfig cfg = w.config();
        if (maskRatio != null) cfg = cfg.withMaskRatio(maskRatio);
        Augment norm = normalization.apply(Augment.mae(cfg.channels()));
        Kernels kernels = MaskedAutoencoder.defaultKernels(DataType.FLOAT);
        Visualizer viz;
        String what;
        if (input.npy != null) {
            viz = Visualizer.ofNormalized(cfg, w.params(), kernels, Npy.read(input.npy), norm);
            what = input.npy.toString();
        } else if (input.files != null) {
            ImageDataset files = ImageFolder.ofFiles(input.files, cfg.channels(), cfg.imageSize());
            viz = Visualizer.ofDataset(cfg, w.params(), kernels, files, Visualizer.firstIndices(files, files.size()), norm);
            what = input.files.size() + " image files";
        } else {
            String spec = input.data != null ? input.data : Datasets.FASHION_MNIST_TEST;
            if (input.data == null && (cfg.channels() != 1 || cfg.imageSize() != 28)) {
                throw new IllegalArgumentException("this model takes " + cfg.channels() + "-channel " + cfg.imageSize()
                        + "px images: give --images, --images-npy or --data");
            }
            ImageDataset d = Datasets.open(spec, cfg.channels(), cfg.imageSize(), false, 0);
            viz = Visualizer.ofDataset(cfg, w.params(), kernels, d, indices, norm);
            what = d + " at " + java.util.Arrays.toString(indices);
        }
        if (!Finite.all(viz.images())) throw new IllegalArgumentException(what + ": the input images hold NaN or infinity");
        if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
        MaeOutput o = noise != null ? viz.write(out, Npy.read(noise)) : viz.write(out, seed);
        System.out.printf(Locale.ROOT, "%s: %s, mask ratio %.2f (%s), loss %.6f -> %s%n", weights, what, cfg.maskRatio(),
                noise != null ? "noise " + noise : "seed " + seed, o.loss(), out);
        if (json != null) {
            ObjectNode n = JSON.createObjectNode();
            n.put("weights", weights.toString());
            n.put("images", what);
            n.put("mask_ratio", cfg.maskRatio());
            if (noise != null) n.put("noise", noise.toString()); else n.put("seed", seed);
            n.put("loss", o.loss());
            float[] m = o.mask().castTo(DataType.FLOAT).dup('c').data().asFloat();
            int l = cfg.numPatches();
            var rows = n.putArray("mask");
            for (int i = 0; i < m.length / l; i++) {
                var row = rows.addArray();
                for (int j = 0; j < l; j++) row.add((int) m[i * l + j]);
            }
            n.put("png", out.toString());
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
            org.mae4j.io.AtomicFiles.write(json, os -> os.write(bytes));
        }
        return 0;
    }

}
