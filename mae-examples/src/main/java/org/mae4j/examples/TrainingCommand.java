package org.mae4j.examples;

import org.mae4j.train.StopSignal;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingDivergedException;
import org.mae4j.train.TrainingState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What the training commands (pretrain, finetune, linprobe) share beyond their options: how a run ends. */
interface TrainingCommand {
    Logger LOG = LoggerFactory.getLogger(TrainingCommand.class);

    /** The run's output folder (where an internal error's trace goes). */
    Path out();

    /** The command line as given (the subcommand first), for the "continue with" hint; null when not parsed from one. */
    default List<String> args() { return null; }

    /**
     * The options a resume takes from its checkpoint or replaces: dropped from the hint (with their value, if any).
     * --weights and --random-init: the model (and a probe's encoder) comes from the checkpoint; --max-steps: it
     * counts steps in total, so repeated it would stop the continued run where it stands.
     */
    Set<String> REPLACED_ON_RESUME = Set.of("--resume", "--out", "--weights", "--random-init", "--max-steps");
    Set<String> FLAGS = Set.of("--random-init");

    /**
     * The command that continues a run: the original arguments (so an image-folder run keeps its --test-data, a
     * --workers run its workers) minus what the resume replaces, then --resume and --out; each shell-quoted.
     */
    static String continueCommand(List<String> args, String command, Path checkpoint, Path out) {
        List<String> cmd = new ArrayList<>(List.of("./mae"));
        if (args == null || args.isEmpty()) {
            cmd.add(command);
        } else {
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i), name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
                if (REPLACED_ON_RESUME.contains(name)) {
                    if (!a.contains("=") && !FLAGS.contains(name)) i++;   // its value
                    continue;
                }
                cmd.add(a);
            }
            // a --workers launcher gives its workers the command without --workers (Workers.withoutWorkers): put it back
            if ("1".equals(System.getenv(DistributedOptions.ENV_TRACKER_RUNNING)) && System.getenv(DistributedOptions.ENV_WORLD) != null
                    && !cmd.contains("--workers")) {
                cmd.add("--workers");
                cmd.add(System.getenv(DistributedOptions.ENV_WORLD));
            }
        }
        cmd.addAll(List.of("--resume", checkpoint.toString(), "--out", out.toString()));
        StringBuilder sb = new StringBuilder();
        for (String a : cmd) sb.append(sb.length() == 0 ? "" : " ").append(shellQuoted(a));
        return sb.toString();
    }

    /** a as a POSIX shell reads it back: unchanged when it has only safe characters, else in single quotes. */
    static String shellQuoted(String a) {
        if (!a.isEmpty() && a.matches("[A-Za-z0-9_./:=,+@%-]+")) return a;
        return "'" + a.replace("'", "'\\''") + "'";
    }

    /**
     * Runs the trainer until done, --max-steps, divergence, or Ctrl-C / SIGTERM (which finish the current step
     * and write a checkpoint before the JVM exits), and says how to continue. Exit code 0, or 3 on divergence.
     */
    static int train(Trainer trainer, TrainingState start, TrainingCommand cmd, String command) throws IOException {
        StopSignal stop = StopSignal.onShutdown();
        try {
            Trainer.Result r = trainer.stopOn(stop).train(start);
            Path ckpt = cmd.out().resolve(org.mae4j.train.RunFolder.CHECKPOINT);
            String again = continueCommand(cmd.args(), command, ckpt, cmd.out());
            switch (r.end()) {
                case STOPPED -> System.out.printf("stopped by a signal at step %d (epoch %d); checkpoint %s%ncontinue with: %s%n",
                        r.state().step(), Math.min(r.state().epoch() + 1, trainer.options().epochs()), ckpt, again);
                case MAX_STEPS -> System.out.printf("stopped at --max-steps (step %d); continue with: %s%n", r.state().step(), again);
                case COMPLETED -> LOG.info("done: {}", cmd.out().toAbsolutePath());
            }
            System.out.flush();
            return 0;
        } catch (TrainingDivergedException e) {
            LOG.error(e.getMessage());
            return 3;
        } finally {
            stop.finished();
        }
    }
}
