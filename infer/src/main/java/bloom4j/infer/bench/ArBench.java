package bloom4j.infer.bench;

import bloom4j.models.llama.LlamaConfig;
import bloom4j.models.llama.LlamaGraph;
import bloom4j.nn.ComputeThreads;
import bloom4j.nn.Graphs;
import bloom4j.nn.Init;
import bloom4j.nn.KvCache;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Speed of SongBloom's AR backbone on the CPU: the Llama stack of {@link LlamaGraph} (the graph the model generates with) at real
 * size with random weights, FP32, batch 2 as with CFG. Measures one prefill over the prompt+lyrics prefix (the graph), then
 * single-token decode steps with the KV cache ({@link LlamaGraph#decode}, the eager kernel the generator uses), each feeding the last
 * hidden state back as the next input, and the memory-copy bandwidth that bounds decoding.
 *
 * <p>Tokens per second count every sequence of the batch ({@code batch · positions / seconds}); a decode step of the CFG pair
 * therefore counts 2 tokens. {@code infer/src/bench/python/bench_ar.py} runs the same shapes in PyTorch with the same conventions.
 *
 * <p>The decode limit: a step must read every weight once, so it takes at least weight bytes ÷ memory bandwidth. The bandwidth is
 * measured here after the run (so that its buffers do not count in the peak RSS) as a 256 MiB copy, counted like STREAM's Copy
 * (bytes read + bytes written per second).
 *
 * <p>Threads: {@link ComputeThreads#forInference} (ND4J's kernels on one thread, BLAS on all), as every inference command runs.
 */
public final class ArBench {
    private ArBench() {}

    /** The measured shapes and settings; see {@code bloom4j bench ar --help}. */
    public record Options(int layers, int dim, int heads, int kvHeads, int ffn, int batch, int prefix, int steps, int threads,
                          int warmup) {
        public Options {
            positive("--layers", layers);
            positive("--dim", dim);
            positive("--heads", heads);
            positive("--kv-heads", kvHeads);
            positive("--ffn", ffn);
            positive("--batch", batch);
            positive("--prefix", prefix);
            positive("--steps", steps);
            positive("--threads", threads);
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
            if (dim % heads != 0) throw new IllegalArgumentException("--dim " + dim + " is not a multiple of --heads " + heads);
            if (heads % kvHeads != 0) throw new IllegalArgumentException("--heads " + heads + " is not a multiple of --kv-heads " + kvHeads);
        }

        private static void positive(String name, int v) {
            if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }

        /** SongBloom's released AR shapes: 36 layers, 1536 wide, 24 heads, SwiGLU 6144, batch 2, an 851-token prefix. */
        public static Options released(int threads) { return new Options(36, 1536, 24, 24, 6144, 2, 851, 64, threads, 2); }

        public LlamaConfig llama() { return new LlamaConfig(dim, ffn, heads, kvHeads, layers, 20000, 1e-6); }
    }

    /** What was measured. */
    public record Result(Options options, double copyGbPerS, long weightBytes, double buildSeconds, double prefillSeconds,
                         double decodeSecondsPerStep, long peakRssBytes) {
        public double prefillTokensPerSecond() { return (double) options.batch() * options.prefix() / prefillSeconds; }

        public double decodeTokensPerSecond() { return options.batch() / decodeSecondsPerStep; }

        /** Weight bytes ÷ copy bandwidth: the fastest a decode step could be. */
        public double limitSecondsPerStep() { return weightBytes / (copyGbPerS * 1e9); }

        public double limitTokensPerSecond() { return options.batch() / limitSecondsPerStep(); }
    }

    public static Result run(Options o, PrintStream log) {
        ComputeThreads.forInference(o.threads());
        LlamaConfig c = o.llama();
        log.printf(Locale.ROOT, "bench ar: %s, batch %d, prefix %d, %d decode steps, FP32, %d threads (%s)%n", c, o.batch(), o.prefix(),
                o.steps(), o.threads(), ComputeThreads.describe());

        long t0 = System.nanoTime();
        Nd4j.getRandom().setSeed(1234);
        Init random = Init.named("bench normal(0.02)", (k, s, t) -> k.endsWith("layernorm.weight") || k.endsWith("norm.weight")
                ? Nd4j.ones(t, s) : Nd4j.randn(t, s).muli(0.02));
        Scope root = Scope.root(Graphs.create(), ParamSource.empty(), LoadOptions.inference().initMissing(random));
        LlamaGraph g = new LlamaGraph(root.pp("model.ar_transformer"), c, o.batch());
        double build = (System.nanoTime() - t0) / 1e9;
        long weightBytes = c.params() * 4;
        log.printf(Locale.ROOT, "built %d layers (%.2f GB of weights) in %.1f s%n", c.numHiddenLayers(), weightBytes / 1e9, build);

        KvCache cache = g.newCache(o.prefix() + o.warmup() + o.steps());
        INDArray prefix = Nd4j.randn(DataType.FLOAT, o.batch(), o.prefix(), o.dim());
        String last = g.lastHidden().name();
        t0 = System.nanoTime();
        INDArray h = g.run(prefix, cache, last).get(last);
        double prefill = (System.nanoTime() - t0) / 1e9;
        g.releaseWorkingMemory();                                                 // as the generator does after its prefill
        log.printf(Locale.ROOT, "prefill: %d x %d tokens in %.2f s = %.1f tok/s%n", o.batch(), o.prefix(), prefill,
                o.batch() * o.prefix() / prefill);

        INDArray x = h.dup();
        for (int i = 0; i < o.warmup(); i++) x = g.decode(x, cache);
        double[] steps = new double[o.steps()];
        for (int i = 0; i < o.steps(); i++) {
            t0 = System.nanoTime();
            x = g.decode(x, cache);
            steps[i] = (System.nanoTime() - t0) / 1e9;
        }
        double perStep = Arrays.stream(steps).sum() / o.steps();
        double[] sorted = steps.clone();
        Arrays.sort(sorted);
        long rss = peakRss();
        double copy = copyBandwidth();
        Result r = new Result(o, copy, weightBytes, build, prefill, perStep, rss);
        log.printf(Locale.ROOT, "decode: %.1f ms/step (median %.1f, best %.1f) at context %d..%d = %.2f tok/s (batch %d)%n",
                perStep * 1e3, sorted[sorted.length / 2] * 1e3, sorted[0] * 1e3, o.prefix() + o.warmup(), cache.length(),
                r.decodeTokensPerSecond(), o.batch());
        log.printf(Locale.ROOT, "memory copy bandwidth: %.1f GB/s (read + write, 256 MiB copy, after the run)%n", copy);
        log.printf(Locale.ROOT, "decode limit: %.2f GB of weights / %.1f GB/s = %.1f ms/step = %.2f tok/s; measured %.0f%% of it%n",
                weightBytes / 1e9, copy, r.limitSecondsPerStep() * 1e3, r.limitTokensPerSecond(),
                100 * r.limitSecondsPerStep() / perStep);
        return r;
    }

    /** The machine-readable summary line. */
    public static String summary(Result r) {
        return String.format(Locale.ROOT, "bench ar: prefill_tok_s=%.2f decode_tok_s=%.3f peak_rss_mb=%d", r.prefillTokensPerSecond(),
                r.decodeTokensPerSecond(), r.peakRssBytes() >> 20);
    }

    /** Best of four 256 MiB copies (far beyond any cache), in GB/s counted as bytes read + bytes written. */
    static double copyBandwidth() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 64, 1 << 20);
        INDArray b = Nd4j.create(DataType.FLOAT, 64, 1 << 20);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            long t0 = System.nanoTime();
            b.assign(a);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        double gb = 2.0 * a.length() * 4 / 1e9;
        a.close();
        b.close();
        return gb / best;
    }

    /** Peak resident set size of this process (VmHWM), or -1 where /proc is not available. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
