package org.mae4j.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./mae} command line. Each subcommand is a thin layer over mae-core with a {@code run(...)}
 * method that the tests call with tiny settings.
 */
@Command(name = "mae", mixinStandardHelpOptions = true, version = "mae4j 0.1.0-SNAPSHOT",
        description = "Masked Autoencoders on the JVM: pretrain, linear probe, fine-tune, reconstruct, export, benchmark.",
        subcommands = {PretrainCommand.class, LinprobeCommand.class, FinetuneCommand.class, KnnCommand.class, ResultsCommand.class, ReconstructCommand.class, ExportCommand.class, EmbedCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Mae implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public void run() { spec.commandLine().usage(System.out); }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The parser with every subcommand, default-value help and exit codes (2 for bad arguments). */
    public static CommandLine commandLine() {
        // ImageIO's default stream cache is a temporary file whose closer is a JVM shutdown hook, registered at the
        // first picture written: a SIGTERM that lands just before an epoch's first picture made that write fail with
        // "Shutdown in progress" instead of the run saving and stopping. The pictures are small: write them from memory.
        javax.imageio.ImageIO.setUseCache(false);
        CommandLine cl = new CommandLine(new Mae());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Bad input (arguments, files, data) is the user's to fix: one clear line, no stack trace. Anything else
        // is a bug: say so, and keep the trace in a file for the report.
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            String command = parsed.subcommand() == null ? "mae" : "mae " + parsed.subcommand().commandSpec().name();
            String problem = UserErrors.describe(e);
            if (problem != null) {
                line.getErr().println(command + ": " + problem);
                line.getErr().flush();
                return 2;
            }
            Object user = parsed.subcommand() == null ? null : parsed.subcommand().commandSpec().userObject();
            java.nio.file.Path log = UserErrors.writeTrace(e, user instanceof TrainingCommand t ? t.out() : null);
            line.getErr().println(command + ": internal error, please report it: " + e + (log == null ? "" : " (stack trace in " + log + ")"));
            line.getErr().flush();
            return 70;
        });
        return cl;
    }
}
