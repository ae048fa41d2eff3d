package bloom4j.infer.cli;

import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.infer.bench.DitBench;
import bloom4j.infer.bench.LoadBench;
import bloom4j.infer.bench.VaeBench;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.vae.OobleckConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j bench ...}: benchmarks (never run as tests). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks; compare with PyTorch on the same machine.",
        subcommands = {BenchCommand.Load.class, BenchArCommand.class, BenchCommand.Dit.class, BenchCommand.Vae.class, MuqBenchCommand.class})
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


    @Command(name = "dit", mixinStandardHelpOptions = true,
            description = {"SongBloom DiT sampler steps/s at the released shapes (random weights, CFG batch 2, 50 tokens).",
                    "Pair with infer/src/bench/python/bench_dit.py --threads N."})
    static final class Dit implements Callable<Integer> {
        @Option(names = "--steps", defaultValue = "8", description = "timed sampler steps (default 8)") int steps;
        @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first (default 2)") int warmup;
        @Mixin ThreadsOption threads;

        @Override public Integer call() {
            if (steps < 1 || warmup < 1) throw new IllegalArgumentException("--steps and --warmup must be >= 1");
            int n = threads.resolve();
            bloom4j.nn.ComputeThreads.forInference(n);   // the split generation uses: the bench measures what a user gets
            DitConfig c = DitConfig.released();
            DitBench.Result r = DitBench.run(c, steps, warmup, 1);
            System.out.printf(Locale.ROOT, "bench dit: D=%d heads=%d layers=%d tokens=%d batch=2 (CFG) FLOAT nd4j-cpu threads=%s: build %.1f s, "
                            + "%.1f ms/step, %.3f steps/s, DiT compute %.1f s per audio second (36 steps per 0.64 s block)%n",
                    c.dim(), c.heads(), c.depth(), c.sequenceLength(), n, r.buildSeconds(), 1000 * r.stepSeconds(), r.stepsPerSecond(), r.realTimeFactor(c));
            return 0;
        }
    }

    @Command(name = "vae", mixinStandardHelpOptions = true,
            description = {"SongBloom VAE decode time per second of 48 kHz stereo audio (released config, random weights, chunk 128 / overlap 32).",
                    "Pair with infer/src/bench/python/bench_vae.py --threads N."})
    static final class Vae implements Callable<Integer> {
        @Option(names = "--seconds", defaultValue = "10", description = "audio length to decode (default 10)") double seconds;
        @Mixin ThreadsOption threads;

        @Override public Integer call() {
            if (!(seconds > 0)) throw new IllegalArgumentException("--seconds must be positive");
            int n = threads.resolve();
            bloom4j.nn.ComputeThreads.forInference(n);   // the split generation uses: the bench measures what a user gets
            OobleckConfig c = OobleckConfig.songBloom();
            VaeBench.Result r = VaeBench.run(c, seconds, 1);
            System.out.printf(Locale.ROOT, "bench vae: channels=%d c_mults=%s strides=%s latent=%d, %d latents = %.2f s audio, FLOAT nd4j-cpu "
                            + "threads=%s: build %.1f s, decode %.2f s, %.3f s per audio second%n", c.channels(), c.cMults(), c.strides(),
                    c.latentDim(), r.latentFrames(), r.audioSeconds(), n, r.buildSeconds(), r.decodeSeconds(), r.secondsPerAudioSecond());
            return 0;
        }
    }
}
