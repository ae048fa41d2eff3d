package bloom4j.nn.bench;

import bloom4j.nn.KvCache;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.TinyDecoder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-step cost of KV-cached decoding through one SameDiff graph, FP32, CPU, B = 1, random weights.
 * Usage: {@code java -cp <nn test classpath> bloom4j.nn.bench.DecodeStepBench [layers hidden heads kvHeads ffn [steps]]}.
 * Prints the graph's op count, prefill time, and the mean time per decode step after warm-up.
 */
public final class DecodeStepBench {
    public static void main(String[] args) {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int hidden = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int heads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int kvHeads = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        int ffn = args.length > 4 ? Integer.parseInt(args[4]) : 4 * hidden;
        int steps = args.length > 5 ? Integer.parseInt(args[5]) : 200;
        int dh = hidden / heads;
        TinyDecoder.Config cfg = new TinyDecoder.Config(hidden, heads, kvHeads, dh, dh, ffn, layers, 10000);
        TinyDecoder m = new TinyDecoder(cfg, ParamSource.of(TinyDecoder.weights(cfg, 1, DataType.FLOAT)), LoadOptions.inference(), 1, true);
        int ops = m.sd.getOps().size();
        KvCache cache = new KvCache(m.slots, 1, new bloom4j.nn.AttentionDims(hidden, heads, kvHeads, dh), 64, DataType.FLOAT);
        INDArray prompt = Nd4j.rand(DataType.FLOAT, 1, 32, hidden);
        long t0 = System.nanoTime();
        m.step(prompt, cache);
        double prefillMs = (System.nanoTime() - t0) / 1e6;
        INDArray tok = Nd4j.rand(DataType.FLOAT, 1, 1, hidden);
        int warm = Math.min(50, steps);
        for (int i = 0; i < warm; i++) m.step(tok, cache);
        t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) m.step(tok, cache);
        double stepMs = (System.nanoTime() - t0) / 1e6 / steps;
        System.out.printf("layers=%d hidden=%d heads=%d kv=%d ffn=%d: %d ops, %.1f ops/layer; prefill(32) %.1f ms; decode %.2f ms/step "
                        + "(%.0f us/op) at context %d..%d, OMP_NUM_THREADS=%s%n", layers, hidden, heads, kvHeads, ffn, ops,
                (double) ops / layers, prefillMs, stepMs, stepMs * 1000 / ops, 32 + warm, cache.length(), System.getenv("OMP_NUM_THREADS"));
    }
}
