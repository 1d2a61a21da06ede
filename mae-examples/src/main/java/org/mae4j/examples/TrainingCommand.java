package org.mae4j.examples;

import org.mae4j.train.StopSignal;
import org.mae4j.train.Trainer;
import org.mae4j.train.TrainingDivergedException;
import org.mae4j.train.TrainingState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/** What the training commands (pretrain, finetune, linprobe) share beyond their options: how a run ends. */
interface TrainingCommand {
    Logger LOG = LoggerFactory.getLogger(TrainingCommand.class);

    /** The run's output folder (where an internal error's trace goes). */
    Path out();

    /**
     * Runs the trainer until done, --max-steps, divergence, or Ctrl-C / SIGTERM (which finish the current step
     * and write a checkpoint before the JVM exits), and says how to continue. Exit code 0, or 3 on divergence.
     */
    static int train(Trainer trainer, TrainingState start, TrainingCommand cmd, String command) throws IOException {
        StopSignal stop = StopSignal.onShutdown();
        try {
            Trainer.Result r = trainer.stopOn(stop).train(start);
            Path ckpt = cmd.out().resolve(org.mae4j.train.RunFolder.CHECKPOINT);
            switch (r.end()) {
                case STOPPED -> System.out.printf("stopped by a signal at step %d (epoch %d); checkpoint %s%ncontinue with: ./mae %s --resume %s --out %s%n",
                        r.state().step(), r.state().epoch() + 1, ckpt, command, ckpt, cmd.out());
                case MAX_STEPS -> System.out.printf("stopped at --max-steps (step %d); continue with: ./mae %s --resume %s --out %s%n",
                        r.state().step(), command, ckpt, cmd.out());
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
