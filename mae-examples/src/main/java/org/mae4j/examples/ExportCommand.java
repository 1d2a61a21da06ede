package org.mae4j.examples;

import org.mae4j.config.MaeConfig;
import org.mae4j.io.Checkpoint;
import org.mae4j.io.HfConfig;
import org.mae4j.mae.PretrainedWeights;
import org.mae4j.io.Safetensors;
import org.mae4j.io.WeightNames;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./mae export}: weights to safetensors for PyTorch users: the official MAE names (load with
 * {@code model.load_state_dict(safetensors.torch.load_file(f))} into facebookresearch/mae's models) or a
 * HuggingFace ViTMAE folder (config.json + model.safetensors, for {@code ViTMAEForPreTraining.from_pretrained}).
 */
@Command(name = "export", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Export weights as safetensors with official MAE or HuggingFace ViTMAE names.")
public final class ExportCommand implements Callable<Integer> {

    enum Names { official, huggingface }

    @Option(names = "--weights", required = true, description = "Checkpoint (.zip), .safetensors, HuggingFace folder or .npy folder.")
    Path weights;
    @Option(names = "--preset", description = "Model config for weights that carry none (.npy folders, bare .safetensors).",
            completionCandidates = PretrainCommand.Presets.class)
    String preset;
    @Option(names = "--names", defaultValue = "official", description = "Key naming: ${COMPLETION-CANDIDATES}.")
    Names names;
    @Option(names = "--out", required = true,
            description = "official: the .safetensors file to write; huggingface: the folder to write config.json and model.safetensors into.")
    Path out;
    @Option(names = "--force", description = "Replace existing output files.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        Outputs outputs = Outputs.of(force).input("--weights", weights);
        if (names == Names.official) {
            if (!out.toString().endsWith(".safetensors")) throw new IllegalArgumentException("--out " + out + ": name the file *.safetensors");
            outputs.file("--out", out);
        } else {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("--out " + out + ": exists and is not a directory (huggingface names write a folder)");
            }
            outputs.file("--out", out.resolve("model.safetensors"));
            outputs.file("--out", out.resolve("config.json"));
        }
        // a fine-tuned classifier's tensors as trained (fc_norm, head), not the encoder view load() gives (norm = identity)
        PretrainedWeights.Exportable w = PretrainedWeights.forExport(weights, preset == null ? null : MaeConfig.preset(preset));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");   // what HuggingFace's loaders expect of a PyTorch safetensors file
        meta.put("producer", "mae4j " + Checkpoint.LIBRARY_VERSION);
        meta.put("source", weights.getFileName().toString());
        // Encoder-only weights stay encoder-only: their decoder is a random initialisation, not worth exporting.
        Map<String, INDArray> official = w.tensors();
        if (names == Names.official) {
            Safetensors.write(out, official, meta);
            System.out.println("wrote " + out + " (" + official.size() + " tensors, official MAE names)");
        } else {
            if (w.classifier()) {
                throw new IllegalArgumentException("--weights " + weights + " is a fine-tuned classifier: HuggingFace ViTMAE names have no place for its "
                        + "fc_norm and head, which would be lost; export it with --names official (timm/MAE finetune keys)");
            }
            w.requireDecoder(weights);   // ViTMAEForPreTraining has a decoder
            Path file = out.resolve("model.safetensors"), config = out.resolve("config.json");
            Files.createDirectories(out);
            Map<String, INDArray> hf = WeightNames.toHuggingFace(official);
            Safetensors.write(file, hf, meta);
            HfConfig.write(w.config(), config);
            System.out.println("wrote " + file + " (" + hf.size() + " tensors, HuggingFace ViTMAE names) and " + config);
        }
        return 0;
    }
}
