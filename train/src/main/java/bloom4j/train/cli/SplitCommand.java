package bloom4j.train.cli;

import bloom4j.train.data.Split;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code bloom4j split}: train/validation split by song. */
@Command(name = "split", mixinStandardHelpOptions = true,
        description = {"Split a training JSONL into train_split.jsonl and val_split.jsonl by song (seeded, line order kept).",
                "Whole subsets can be held out for validation too; both files' SHA-256 are printed for the run config."})
final class SplitCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "JSONL", description = "training JSONL, one song per line") Path input;
    @Option(names = "--out", paramLabel = "DIR", description = "where the two files go (default: next to the input)") Path out;
    @Option(names = "--val-ratio", defaultValue = "0.1", description = "share of songs for validation (default 0.1)") double valRatio;
    @Option(names = "--seed", defaultValue = "1234", description = "shuffle seed (default 1234)") long seed;
    @Option(names = "--val-subsets", split = ",", paramLabel = "A,B", description = "subsets held out whole for validation")
    List<String> valSubsets = List.of();

    @Override public Integer call() throws Exception {
        if (!java.nio.file.Files.isRegularFile(input)) throw new IllegalArgumentException("--input " + input + ": no such file");
        Path dir = out != null ? out : input.toAbsolutePath().getParent();
        Split.Result r = Split.run(input, dir, valRatio, seed, new LinkedHashSet<>(valSubsets));
        System.out.printf("train: %s (%d songs, sha256 %s)%nval:   %s (%d songs, sha256 %s)%n", r.train(), r.trainLines(),
                r.trainSha256(), r.val(), r.valLines(), r.valSha256());
        return 0;
    }
}
