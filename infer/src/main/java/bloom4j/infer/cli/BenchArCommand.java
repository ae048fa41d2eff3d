package bloom4j.infer.cli;

import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.infer.bench.ArBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code bloom4j bench ar}: the AR backbone's prefill and decode speed; see {@link ArBench}. */
@Command(name = "ar", mixinStandardHelpOptions = true,
        description = {"SongBloom AR backbone speed (Llama, random weights, FP32): prefill and KV-cached decode tokens/s.",
                "Also reports peak RSS and the memory-bandwidth limit of decoding. Tokens count every sequence of the batch.",
                "Pair with: python3 infer/src/bench/python/bench_ar.py (same options), the same computation in PyTorch.",
                "Last line: bench ar: prefill_tok_s=<x> decode_tok_s=<y> peak_rss_mb=<z>"})
final class BenchArCommand implements Callable<Integer> {
    @Option(names = "--layers", defaultValue = "36", description = "decoder layers (default 36, the released model)") int layers;
    @Option(names = "--dim", defaultValue = "1536", description = "model width (default 1536)") int dim;
    @Option(names = "--heads", defaultValue = "24", description = "attention heads (default 24)") int heads;
    @Option(names = "--kv-heads", defaultValue = "24", description = "key/value heads (default 24: no GQA)") int kvHeads;
    @Option(names = "--ffn", defaultValue = "6144", description = "SwiGLU width (default 6144)") int ffn;
    @Option(names = "--batch", defaultValue = "2", description = "sequences per call (default 2: the CFG pair)") int batch;
    @Option(names = "--prefix", defaultValue = "851", description = "prefill length (default 851: prompt 250 + lyrics 600 + BOS)")
    int prefix;
    @Option(names = "--steps", defaultValue = "64", description = "timed decode steps (default 64)") int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "untimed decode steps before them (default 2)") int warmup;
    @Mixin ThreadsOption threads;

    @Override public Integer call() {
        int t = threads.resolve();
        ArBench.Options o = new ArBench.Options(layers, dim, heads, kvHeads, ffn, batch, prefix, steps, t, warmup);
        ArBench.Result r = ArBench.run(o, System.out);
        System.out.println(ArBench.summary(r));
        return 0;
    }
}
