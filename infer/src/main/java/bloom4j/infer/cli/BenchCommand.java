package bloom4j.infer.cli;

import bloom4j.infer.bench.LoadBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j bench ...}: benchmarks (never run as tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks; compare with PyTorch on the same machine.",
        subcommands = {BenchCommand.Load.class, BenchArCommand.class})
final class BenchCommand {

    @Command(name = "load", mixinStandardHelpOptions = true,
            description = {"Load every tensor of checkpoint files into memory and report seconds and GB/s.",
                    "Pair with infer/src/bench/python/bench_load.py, which makes 2 GB test files and times torch.load on them."})
    static final class Load implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = ".safetensors / .pt / .ckpt files")
        List<Path> files;

        @Option(names = "--repeat", defaultValue = "3", description = "loads per file (default 3; the first may hit a cold page cache)")
        int repeat;

        @Override public Integer call() throws Exception {
            if (repeat < 1) throw new IllegalArgumentException("--repeat must be >= 1, got " + repeat);
            for (Path f : files) {
                double best = Double.MAX_VALUE;
                LoadBench.Run last = null;
                for (int i = 0; i < repeat; i++) {
                    last = LoadBench.loadAll(f);
                    best = Math.min(best, last.seconds());
                    System.out.printf(Locale.ROOT, "load %s run %d: %d tensors, %.3f GB in %.3f s (%.2f GB/s)%n", f.getFileName(), i + 1,
                            last.tensors(), last.bytes() / 1e9, last.seconds(), last.gbPerSecond());
                    System.gc();
                }
                System.out.printf(Locale.ROOT, "bench load: file=%s bytes=%d best_s=%.3f best_gb_s=%.2f%n", f.getFileName(),
                        last.bytes(), best, last.bytes() / 1e9 / best);
            }
            return 0;
        }
    }
}
