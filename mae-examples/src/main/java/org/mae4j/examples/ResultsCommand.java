package org.mae4j.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.mae4j.examples.viz.LabelEfficiency;
import org.mae4j.examples.viz.LossCurve;
import org.mae4j.io.AtomicFiles;
import org.mae4j.train.RunFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code ./mae results}: gathers a study's run folders (docs/results/run.sh) into what docs/results.md shows:
 * results.json (one row per finished step: protocol, encoder, top-1, top-5, hours, command), table.md, the
 * epoch rows of every run's metrics, the pretraining loss and k-NN picture, the last reconstruction, the
 * fine-tuning curves, and the confusion matrix of the best classifier. Steps not finished yet are left out;
 * running it again after more steps adds them.
 */
@Command(name = "results", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Collect a study's runs (docs/results/run.sh) into results.json, table.md and pictures.")
public final class ResultsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The table's order: baselines before the MAE encoder within each protocol. */
    private static final List<String> PROTOCOLS = List.of("pretrain", "knn", "linprobe", "finetune", "scratch");
    private static final List<String> ENCODERS = List.of("raw-pixels", "random-init", "none", "mae");

    @Option(names = "--runs", required = true, description = "The study's run folders (run.sh's RUNS).")
    Path runs;
    @Option(names = "--out", defaultValue = "docs/results", description = "Where results.json, table.md and the pictures go.")
    Path out;
    @Option(names = "--force", description = "Replace existing files in an --out folder that holds no results.json of ./mae results.")
    boolean force;

    /** One step of the study, as run.sh recorded it in NAME.row: name, protocol, encoder, result file, command. */
    record Step(String name, String protocol, String encoder, Path result, String command, double hours) {
        boolean done() { return Files.exists(result); }

        /** The step's --labels (a fraction of the training set, or a count above 1); all labels (1) without it. */
        double labels() {
            java.util.regex.Matcher m = LABELS.matcher(command);
            if (!m.find()) return 1;
            try {
                return Double.parseDouble(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("step " + name + ": --labels '" + m.group(1) + "' is not a number");
            }
        }

        /** The step's --label-seed (0 without it, as the commands' default). */
        long labelSeed() {
            java.util.regex.Matcher m = LABEL_SEED.matcher(command);
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        }

        /** The name without its label tag: "finetune-mae-l0.01-s2" is the arm "finetune-mae". */
        String arm() { return name.replaceFirst("-l[0-9.eE+-]+-s[0-9]+$", ""); }
    }

    private static final java.util.regex.Pattern LABELS = java.util.regex.Pattern.compile("--labels[ =](\\S+)"),
            LABEL_SEED = java.util.regex.Pattern.compile("--label-seed[ =](-?[0-9]+)");

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(runs)) throw new IllegalArgumentException("--runs " + runs + " is not a directory");
        List<Step> steps = steps(runs);
        if (steps.isEmpty()) throw new IllegalArgumentException("--runs " + runs + " holds no study steps (NAME.row files written by docs/results/run.sh)");
        Outputs outputs = Outputs.of(force).input("--runs", runs);
        for (String f : OWN_FILES) outputs.fileOfResults("--out", out.resolve(f), out);
        for (Step s : steps) outputs.fileOfResults("--out", out.resolve("metrics").resolve(s.name() + ".jsonl"), out);
        Files.createDirectories(out.resolve("metrics"));
        ObjectNode root = JSON.createObjectNode();
        root.put("dataset", "fashion-mnist");
        ArrayNode rows = root.putArray("rows");
        StringBuilder table = new StringBuilder("| step | protocol | encoder | top-1 | top-5 | hours | command |\n|---|---|---|---|---|---|---|\n");
        Step best = null;
        double bestTop1 = -1;
        List<LabelEfficiency.Point> points = new ArrayList<>();
        boolean labelled = false;
        for (Step s : steps) {
            copyEpochRows(s);
            if (s.protocol().equals("pretrain")) {
                // reported while it runs too: a segment's commit shows how far it got
                List<Map<String, Double>> epochs = epochRows(runs.resolve(s.name()).resolve(RunFolder.METRICS));
                ObjectNode p = root.putObject("pretraining");
                p.put("done", s.done());
                p.put("epochs_done", epochs.isEmpty() ? 0 : epochs.get(epochs.size() - 1).get("epoch").intValue());
                p.put("hours", round(s.hours(), 3));
                p.put("command", s.command());
                ArrayNode curve = p.putArray("knn_curve");
                for (Map<String, Double> m : epochs) {
                    if (m.containsKey("knn_val_top1")) {
                        ObjectNode pt = curve.addObject();
                        pt.put("epoch", m.get("epoch").intValue());
                        pt.put("val_top1", m.get("knn_val_top1"));
                        if (m.containsKey("knn_test_top1")) pt.put("test_top1", m.get("knn_test_top1"));
                    }
                }
                table.append(String.format(Locale.ROOT, "| %s | %s | %s | | | %.2f%s | `%s` |%n", s.name(), s.protocol(), s.encoder(), s.hours(),
                        s.done() ? "" : " so far (" + p.get("epochs_done").asInt() + " epochs)", s.command()));
                continue;
            }
            if (!s.done()) {
                table.append(String.format(Locale.ROOT, "| %s | %s | %s | (running) | | %.2f so far | `%s` |%n", s.name(), s.protocol(), s.encoder(), s.hours(), s.command()));
                continue;
            }
            JsonNode r = JSON.readTree(s.result().toFile());
            double top1 = number(r, "test_top1", s.result()), top5 = number(r, "test_top5", s.result());
            ObjectNode row = rows.addObject();
            row.put("name", s.name());
            row.put("protocol", s.protocol());
            row.put("encoder", s.encoder());
            row.put("top1", top1);
            row.put("top5", top5);
            row.put("labels", s.labels());
            row.put("label_seed", s.labelSeed());
            row.put("hours", round(s.hours(), 3));
            points.add(new LabelEfficiency.Point(s.arm(), s.labels(), s.labelSeed(), top1));
            labelled |= LABELS.matcher(s.command()).find();
            row.put("command", s.command());
            table.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f%% | %.2f%% | %.2f | `%s` |%n", s.name(), s.protocol(), s.encoder(),
                    100 * top1, 100 * top5, s.hours(), s.command()));
            Path confusion = runs.resolve(s.name()).resolve("confusion.png");
            if (Files.exists(confusion) && top1 > bestTop1) { best = s; bestTop1 = top1; }
        }
        byte[] json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        AtomicFiles.write(out.resolve("results.json"), os -> os.write(json));
        byte[] md = table.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(out.resolve("table.md"), os -> os.write(md));
        pictures(steps, best);
        if (labelled) {
            // Study II: top-1 against the label fraction, mean and spread over the label seeds
            List<LabelEfficiency.Cell> cells = LabelEfficiency.cells(points);
            byte[] le = LabelEfficiency.table(cells).getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(out.resolve("label-efficiency.md"), os -> os.write(le));
            LabelEfficiency.chart(cells, "Fashion-MNIST: test top-1 against the labels used", out.resolve("label-efficiency.png"));
        }
        System.out.printf(Locale.ROOT, "%d of %d steps done; wrote %s%n", steps.stream().filter(Step::done).count(), steps.size(), out.resolve("results.json"));
        return 0;
    }

    /** The steps run.sh has started, in the table's order. */
    static List<Step> steps(Path runs) throws IOException {
        List<Step> steps = new ArrayList<>();
        try (Stream<Path> files = Files.list(runs)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".row")).toList()) {
                String[] c = Files.readString(f, StandardCharsets.UTF_8).strip().split("\t", -1);
                if (c.length != 5) throw new IllegalArgumentException(f + ": expected 5 tab-separated fields (name, protocol, encoder, result, command), got " + c.length);
                if (!PROTOCOLS.contains(c[1])) throw new IllegalArgumentException(f + ": unknown protocol '" + c[1] + "', expected one of " + PROTOCOLS);
                if (!ENCODERS.contains(c[2])) throw new IllegalArgumentException(f + ": unknown encoder '" + c[2] + "', expected one of " + ENCODERS);
                steps.add(new Step(c[0], c[1], c[2], runs.resolve(c[3]), c[4], hours(runs.resolve(c[0] + ".seconds"))));
            }
        }
        steps.sort(Comparator.comparingInt((Step s) -> PROTOCOLS.indexOf(s.protocol())).thenComparingInt(s -> ENCODERS.indexOf(s.encoder()))
                .thenComparing(Step::name));
        return steps;
    }

    /** The wall-clock hours of every invocation of a step (one line of seconds each). */
    static double hours(Path seconds) throws IOException {
        if (!Files.exists(seconds)) return 0;
        double s = 0;
        for (String line : Files.readAllLines(seconds, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
                s += Double.parseDouble(line.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(seconds + ": '" + line + "' is not a number of seconds");
            }
        }
        return s / 3600;
    }

    private static double number(JsonNode r, String key, Path file) {
        JsonNode v = r.get(key);
        if (v == null || !v.isNumber()) throw new IllegalArgumentException(file + " has no number '" + key + "'");
        return v.asDouble();
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** The numbers of a run's epoch_end rows. */
    private static List<Map<String, Double>> epochRows(Path metrics) throws IOException {
        if (!Files.exists(metrics)) return List.of();
        return Files.readAllLines(metrics, StandardCharsets.UTF_8).stream().filter(l -> l.contains("\"type\":\"epoch_end\"")).map(RunFolder::numbers).toList();
    }

    /** metrics/NAME.jsonl: the run's epoch and test rows (the per-step rows stay in the run folder). */
    private void copyEpochRows(Step s) throws IOException {
        Path metrics = runs.resolve(s.name()).resolve(RunFolder.METRICS);
        if (!Files.exists(metrics)) return;
        List<String> keep = Files.readAllLines(metrics, StandardCharsets.UTF_8).stream()
                .filter(l -> l.contains("\"type\":\"epoch_end\"") || l.contains("\"type\":\"test\"") || l.contains("\"type\":\"start\"")).toList();
        byte[] bytes = (String.join("\n", keep) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(out.resolve("metrics").resolve(s.name() + ".jsonl"), os -> os.write(bytes));
    }

    private void pictures(List<Step> steps, Step best) throws IOException {
        Path pre = runs.resolve("pretrain");
        copy(pre.resolve(PretrainCommand.LOSS_PNG), out.resolve("pretrain-loss.png"));
        copy(pre.resolve("recon-init.png"), out.resolve("recon-init.png"));
        if (Files.isDirectory(pre)) {
            try (Stream<Path> files = Files.list(pre)) {
                Path last = files.filter(p -> p.getFileName().toString().matches("recon-epoch-\\d+\\.png")).max(Comparator.naturalOrder()).orElse(null);
                if (last != null) copy(last, out.resolve("recon-last.png"));
            }
        }
        if (best != null) copy(runs.resolve(best.name()).resolve("confusion.png"), out.resolve("confusion-best.png"));
        // the fine-tuning curves side by side: the mean training loss and the held-out accuracy per epoch
        List<LossCurve.Series> loss = new ArrayList<>(), val = new ArrayList<>();
        for (Step s : steps) {
            if (!s.protocol().equals("finetune") && !s.protocol().equals("scratch")) continue;
            List<Map<String, Double>> rows = epochRows(runs.resolve(s.name()).resolve(RunFolder.METRICS));
            if (rows.isEmpty()) continue;
            double[] e = new double[rows.size()], l = new double[rows.size()], v = new double[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                e[i] = rows.get(i).get("epoch");
                l[i] = rows.get(i).getOrDefault("loss", Double.NaN);
                v[i] = 100 * rows.get(i).getOrDefault("val_top1", Double.NaN);
            }
            loss.add(new LossCurve.Series(s.name(), e, l));
            val.add(new LossCurve.Series(s.name(), e, v));
        }
        if (!loss.isEmpty()) {
            BufferedImage top = LossCurve.render("fine-tuning and from scratch: training loss (against mixed targets where mixup/cutmix is on)", "epoch", "loss", loss, false, 900, 420);
            BufferedImage bottom = LossCurve.render("held-out tenth of the training set", "epoch", "top-1 %", val, false, 900, 420);
            LossCurve.writeStacked(out.resolve("finetune-curves.png"), List.of(top, bottom));
        }
    }

    /** The files results writes into --out beside metrics/NAME.jsonl (claimed before any is written). */
    private static final List<String> OWN_FILES = List.of("results.json", "table.md", "pretrain-loss.png", "recon-init.png", "recon-last.png",
            "confusion-best.png", "finetune-curves.png");

    private static void copy(Path from, Path to) throws IOException {
        if (Files.exists(from)) AtomicFiles.write(to, os -> Files.copy(from, os));
    }
}
