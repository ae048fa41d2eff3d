package bloom4j.infer.cli;

import bloom4j.infer.bench.MuqBench;
import bloom4j.models.muq.MuqConfig;
import bloom4j.models.muq.MuqModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j bench muq}: MuQ throughput in seconds of audio per second. */
@Command(name = "muq", mixinStandardHelpOptions = true,
        description = {"MuQ inference throughput (waveform -> last hidden state, FP32, batch 1) at the MuQ-large shapes.",
                "Random weights unless --model is given. Pair with infer/src/bench/python/bench_muq.py at the same thread count",
                "(BLOOM4J_THREADS)."})
final class MuqBenchCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "30", description = "audio length (default 30 s = one MuQ window)")
    double seconds;

    @Option(names = "--repeat", defaultValue = "2", description = "timed runs after one warm-up (default 2)")
    int repeat;

    @Option(names = "--model", paramLabel = "PATH", description = "real MuQ weights instead of random ones")
    Path model;

    @Override public Integer call() throws Exception {
        if (repeat < 1) throw new IllegalArgumentException("--repeat must be >= 1, got " + repeat);
        if (!(seconds >= 0.05)) throw new IllegalArgumentException("--seconds must be at least 0.05, got " + seconds);
        long t0 = System.nanoTime();
        MuqModel m = model != null ? MuqModel.load(model) : MuqBench.randomModel(MuqConfig.large(), 0);
        System.out.printf(Locale.ROOT, "loaded %s MuQ (%,d parameters) in %.1f s%n", model != null ? model.toString() : "random-weight",
                MuqBench.parameters(m.config()), (System.nanoTime() - t0) / 1e9);
        MuqBench.Run r = MuqBench.run(m, seconds, repeat, 1);
        System.out.printf(Locale.ROOT, "bench muq: backend=nd4j-native dtype=fp32 threads=%s audio_s=%.1f tokens=%d runs_s=%s best_s=%.3f "
                        + "audio_s_per_s=%.3f%n", System.getenv().getOrDefault("OMP_NUM_THREADS", "?"), r.audioSeconds(), r.tokens(),
                r.seconds().stream().map(s -> String.format(Locale.ROOT, "%.3f", s)).toList(), r.best(), r.audioPerSecond());
        return 0;
    }
}
