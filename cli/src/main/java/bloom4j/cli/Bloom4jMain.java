package bloom4j.cli;

import bloom4j.convert.cli.ConvertMain;
import bloom4j.infer.cli.InferMain;
import bloom4j.tensor.cli.CliSupport;
import bloom4j.train.cli.TrainMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./bloom4j}: every command of every module in one tree. A module registers its commands once, in its own main
 * ({@link ConvertMain}, {@link InferMain}, {@link TrainMain}: their {@code subcommands}); this root gathers them, so the launcher
 * has no table of its own and {@code ./bloom4j --help} lists each command with the first line of its description.
 */
@Command(name = "bloom4j", mixinStandardHelpOptions = true, versionProvider = CliSupport.Version.class,
        description = "Song and voice generation and fine-tuning on the JVM.",
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Run ./bloom4j COMMAND --help for a command's options.", "",
                "Environment:",
                "  JAVA_OPTS          extra JVM options",
                "  BLOOM4J_THREADS    compute threads (default: all cores)",
                "  BLOOM4J_DEBUG=1    stack traces with errors",
                "  BLOOM4J_REBUILD=1  rebuild before running",
                "  OPENBLAS_CORETYPE  OpenBLAS kernel (the launcher picks SkylakeX or Haswell)"})
public final class Bloom4jMain implements Callable<Integer> {

    /** The module mains, in the order their commands are listed. */
    static final Object[] MODULES = {new InferMain(), new ConvertMain(), new TrainMain()};

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override public Integer call() {
        spec.commandLine().usage(System.out);
        return 0;
    }

    /** The whole tree: the root with each module's subcommands moved under it. Fails on a name two modules register. */
    public static CommandLine tree() {
        CommandLine root = new CommandLine(new Bloom4jMain());
        root.addSubcommand("quickstart", new QuickstartCommand());   // spans inference and fine-tuning, so it is registered here
        for (Object module : MODULES) {
            for (Map.Entry<String, CommandLine> e : new CommandLine(module).getSubcommands().entrySet()) {
                if (root.getSubcommands().containsKey(e.getKey())) {
                    throw new IllegalStateException("command '" + e.getKey() + "' is registered by two modules");
                }
                root.addSubcommand(e.getKey(), e.getValue().getCommand());
            }
        }
        return root;
    }

    public static int run(String... args) {
        return CliSupport.execute(tree(), args);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }
}
