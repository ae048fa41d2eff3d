package bloom4j.convert.cli;

import bloom4j.tensor.cli.CliSupport;
import picocli.CommandLine.Command;

/** Entry point of the checkpoint-convert commands ({@code bloom4j inspect|convert}); the root launcher dispatches here. */
@Command(name = "bloom4j", mixinStandardHelpOptions = true, versionProvider = CliSupport.Version.class,
        description = "Inspect and convert PyTorch/safetensors checkpoints.",
        subcommands = {InspectCommand.class, ConvertCommand.class})
public final class ConvertMain {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return CliSupport.execute(new ConvertMain(), args);
    }
}
