package bloom4j.infer.cli;

import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityKinds;
import bloom4j.tensor.parity.ParityRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bloom4j parity DIR...}: runs a reference fixture through bloom4j and compares every output with the PyTorch numbers.
 * Exit 0 only when every fixture passes; 3 when a fixture's kind is not supported.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = {"Check bloom4j against a PyTorch reference fixture folder (fixture.json, model.pt, io.safetensors).",
                "Prints one line per output (max abs/rel error, PASS/FAIL) and last 'parity <kind>: PASS|FAIL'."})
final class ParityCommand implements Callable<Integer> {
    static final int EXIT_UNSUPPORTED = 3;

    @Parameters(arity = "0..*", paramLabel = "DIR", description = "fixture folder(s)")
    List<Path> dirs;

    @Option(names = "--list", description = "list the supported kinds and exit")
    boolean list;

    @Override public Integer call() throws Exception {
        if (list || dirs == null || dirs.isEmpty()) {
            System.out.println("supported kinds:");
            for (ParityKind k : ParityKinds.all()) System.out.printf("  %-24s %s%n", k.kind(), k.description());
            return list ? 0 : 2;
        }
        int rc = 0;
        for (Path d : dirs) {
            ParityRunner.Outcome o = ParityRunner.run(d, System.out);
            if (!o.supported()) rc = Math.max(rc, EXIT_UNSUPPORTED);
            else if (!o.passed()) rc = Math.max(rc, 1);
        }
        return rc;
    }
}
