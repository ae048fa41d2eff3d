package bloom4j.infer.bench;

import bloom4j.models.GaussianNoise;
import bloom4j.models.vae.OobleckConfig;
import bloom4j.models.vae.OobleckVae;
import bloom4j.models.vae.StableVae;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SongBloom's VAE decoder at the released config (stable_audio_1920_vae.json: channels 128, c_mults [1, 2, 4, 8, 16], strides
 * [2, 4, 4, 6, 10], latent 64, 48 kHz stereo), random weights, FLOAT, ND4J CPU, decoding with upstream's chunking (128 latents,
 * overlap 32). Reports seconds of compute per second of audio. Compare with {@code infer/src/bench/python/bench_vae.py}.
 */
public final class VaeBench {
    private VaeBench() {}

    public record Result(double audioSeconds, int latentFrames, double buildSeconds, double warmupSeconds, double decodeSeconds) {
        public double secondsPerAudioSecond() { return decodeSeconds / audioSeconds; }
    }

    public static Result run(OobleckConfig c, double seconds, long seed) {
        long t0 = System.nanoTime();
        OobleckVae vae = OobleckVae.random(c, OobleckVae.Parts.DECODER, seed);
        double build = (System.nanoTime() - t0) / 1e9;
        StableVae stable = new StableVae(vae);
        int frames = (int) Math.round(seconds * c.frameRate());
        GaussianNoise g = GaussianNoise.seeded(seed);
        long w0 = System.nanoTime();
        stable.decode(g.next(1, c.latentDim(), Math.min(frames, StableVae.CHUNK_SIZE)));           // warm-up: one chunk
        double warm = (System.nanoTime() - w0) / 1e9;
        INDArray z = g.next(1, c.latentDim(), frames);
        long d0 = System.nanoTime();
        INDArray y = stable.decode(z);
        double dec = (System.nanoTime() - d0) / 1e9;
        if (y.size(2) != (long) frames * c.downsamplingRatio()) throw new AssertionError("decoded length " + y.size(2));
        return new Result(frames / c.frameRate(), frames, build, warm, dec);
    }
}
