package bloom4j.infer.bench;

import bloom4j.models.GaussianNoise;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.songbloom.dit.FlowSampler;
import bloom4j.models.songbloom.dit.LocalDit;
import bloom4j.nn.Graphs;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SongBloom's DiT sampler at the released shapes (D 1536, 24 heads, 12 layers, block 16, latent 64: 50 tokens, CFG batch 2),
 * random weights N(0, 0.02), FLOAT, ND4J CPU. One sampler step is one {@code diffusion_forward} with CFG. Compare with
 * {@code infer/src/bench/python/bench_dit.py} at the same thread count.
 */
public final class DitBench {
    private DitBench() {}

    public record Result(int steps, double buildSeconds, double warmupSeconds, double stepSeconds) {
        public double stepsPerSecond() { return 1 / stepSeconds; }

        /** Seconds of DiT compute per second of audio: one block (16 frames at 25 Hz = 0.64 s) needs 36 steps. */
        public double realTimeFactor(DitConfig c) { return FlowSampler.DEFAULT_STEPS * stepSeconds / (c.blockSize() / 25.0); }
    }

    public static Result run(DitConfig c, int steps, int warmup, long seed) {
        long t0 = System.nanoTime();
        SameDiff sd = Graphs.create();
        Scope root = Scope.root(sd, ParamSource.empty(), LoadOptions.inference().initMissing(Init.normal(0.02, seed)));
        LocalDit dit = LocalDit.build(root.pp("model"), c);
        double build = (System.nanoTime() - t0) / 1e9;
        GaussianNoise g = GaussianNoise.seeded(seed);
        INDArray h = g.next(1, c.dim()), s = g.next(1, c.blockSize(), c.dim()), hist = g.next(1, c.blockSize(), c.latentDim());
        FlowSampler.Velocity v = (x, t) -> dit.forward(x, Nd4j.valueArrayOf(new long[] {1}, t), h, s, hist, 1.5);
        long w0 = System.nanoTime();
        new FlowSampler(warmup, 0.95, 1.0).sample(v, g, new long[] {1, c.blockSize(), c.latentDim()}, null);
        double warm = (System.nanoTime() - w0) / 1e9;
        long s0 = System.nanoTime();
        new FlowSampler(steps, 0.95, 1.0).sample(v, g, new long[] {1, c.blockSize(), c.latentDim()}, null);
        double per = (System.nanoTime() - s0) / 1e9 / steps;
        return new Result(steps, build, warm, per);
    }
}
