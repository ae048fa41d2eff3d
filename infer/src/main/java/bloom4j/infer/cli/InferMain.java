package bloom4j.infer.cli;

import bloom4j.tensor.cli.CliSupport;
import picocli.CommandLine.Command;

/** Entry point of the inference-side commands ({@code generate}, {@code parity}, {@code bench}); the launcher dispatches here. */
@Command(name = "bloom4j", mixinStandardHelpOptions = true, versionProvider = CliSupport.Version.class,
        description = "Generation, parity checks against the PyTorch reference, and benchmarks.",
        subcommands = {GenerateCommand.class, TtsCommand.class, G2pCommand.class, ParityCommand.class, BenchCommand.class})
public final class InferMain {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return CliSupport.execute(new InferMain(), args);
    }
}
