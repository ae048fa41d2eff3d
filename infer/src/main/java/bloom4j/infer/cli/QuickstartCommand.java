package bloom4j.infer.cli;

import bloom4j.infer.Quickstart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code bloom4j quickstart}: the embedded end-to-end demo (no download, no arguments needed). */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run bloom4j end to end on its bundled tiny model: inspect, convert, reload, parity against PyTorch, generate a song.")
final class QuickstartCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "bloom4j-quickstart", paramLabel = "DIR",
            description = "output folder (default ./bloom4j-quickstart; a previous quickstart output is replaced)")
    Path out;

    @Override public Integer call() throws Exception {
        return Quickstart.run(out, System.out) ? 0 : 1;
    }
}
