package bloom4j.train.cli;

import bloom4j.tensor.cli.CliSupport;
import picocli.CommandLine.Command;

/** Entry point of the training-side commands ({@code train-vq}, {@code extract-sketch}, {@code bench-train}); the launcher dispatches here. */
@Command(name = "bloom4j", mixinStandardHelpOptions = true, versionProvider = CliSupport.Version.class,
        description = "Fine-tuning data preparation and training.",
        subcommands = {PrepareCommand.class, SplitCommand.class, TrainVqCommand.class, ExtractSketchCommand.class, CacheCommand.class,
                TrainCommand.class, BenchTrainCommand.class})
public final class TrainMain {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return CliSupport.execute(new TrainMain(), args);
    }
}
