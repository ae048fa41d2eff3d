package bloom4j.models.songbloom;

import bloom4j.models.GaussianNoise;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.songbloom.dit.FlowSampler;
import bloom4j.models.songbloom.dit.LocalDit;
import bloom4j.models.vae.OobleckConfig;
import bloom4j.models.vae.OobleckVae;
import bloom4j.models.vae.StableVae;
import bloom4j.nn.Params;

import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.io.TensorSources;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;

/**
 * The whole SongBloom: AR sketch LM ({@link SongBloomAr}), local DiT ({@link LocalDit}) with its sampler ({@link FlowSampler}) and
 * the StableVAE ({@link StableVae}), and the generation loop of upstream {@code MVSA_DiTAR.generate} plus
 * {@code SongBloom_Sampler.generate} (tencent-ailab/SongBloom@ef78022, {@code songbloom_mvsa.py} L491-554, {@code songbloom_pl.py}
 * L120-145):
 * <pre>
 *   prompt: mono 48 kHz waveform, first promptSeconds·48000 samples; cond and null (zeros of the same length) through the VAE
 *           encoder; one randn [2, latent, T] for the bottleneck of both rows (row 0 used; the null row is masked to zero)
 *   lyrics: tokenized, conditioner (null lyric '' for the CFG row)
 *   per block: S sketch tokens through the KV-cached LM with CFG on the logits, h; noise randn [1, S, latent];
 *              FlowSampler over the DiT (CFG on h and s, 'h' mode); block_conv feedback; EOS or length: the block is dropped
 *   decode: VAE chunked decode of the kept latents
 * </pre>
 * RNG order as upstream: the VAE draw first, then per block the multinomial draws and one block noise draw. Only the conditional
 * row of the prompt is run through the encoder: the null row's latents are multiplied by a zero mask upstream, so its encoder
 * output cannot matter; the bottleneck draw still has the batch-of-two shape so that the recorded stream lines up.
 *
 * <p>Not thread-safe: one generation at a time per instance (the graphs hold their working memory).
 */
public final class SongBloomModel {
    /** Prompt length the released sampler keeps (seconds). */
    public static final double PROMPT_SECONDS = 10.0;

    private final SongBloomConfig config;
    private final SongBloomAr ar;
    private final LocalDit dit;
    private final StableVae vae;

    public SongBloomModel(SongBloomConfig config, SongBloomAr ar, LocalDit dit, StableVae vae) {
        if (dit.config().dim() != config.dim() || dit.config().blockSize() != config.blockSize()
                || dit.config().latentDim() != config.latentDim()) {
            throw new IllegalArgumentException("DiT sizes " + dit.config() + " do not fit the SongBloom config " + config);
        }
        if (vae.vae().config().latentDim() != config.latentDim()) {
            throw new IllegalArgumentException("the VAE has " + vae.vae().config().latentDim() + " latent channels, the SongBloom model "
                    + config.latentDim() + ": the VAE belongs to another model");
        }
        this.config = config;
        this.ar = ar;
        this.dit = dit;
        this.vae = vae;
    }

    /**
     * Loads AR, DiT and VAE. {@code model} holds the {@code model.*} keys; {@code vaeWeights} the VAE (often the same source, keys
     * under {@code vae.vae.}; see {@link OobleckVae#detectPrefix}).
     */
    public static SongBloomModel load(SongBloomConfig c, TensorSource model, TensorSource vaeWeights, OobleckConfig vaeConfig)
            throws java.io.IOException {
        TensorSources.Tracked tracked = TensorSources.tracked(model);
        SongBloomAr ar = SongBloomAr.load(c, tracked);
        DitConfig dc = DitConfig.fromCheckpoint(tracked, c.numHeads());
        if (dc.depth() != c.diffLayers() || dc.dim() != c.dim() || dc.blockSize() != c.blockSize() || dc.latentDim() != c.latentDim()) {
            throw new SongBloomWeightException(model.description() + ": DiT weights " + dc + " do not fit the config " + c);
        }
        LocalDit dit = LocalDit.load(tracked, dc);
        OobleckVae v = OobleckVae.load(vaeWeights, OobleckVae.detectPrefix(vaeWeights), vaeConfig, OobleckVae.Parts.ALL);
        // One report for the whole SongBloom module (AR, conditioners, DiT): every 'model.' tensor is read by one of them.
        // Keys outside 'model.' (the VAE under 'vae.', checked by its own loader) are not SongBloom's.
        List<String> unused = tracked.unread().stream().filter(k -> k.startsWith("model.")).toList();
        Params.requireComplete("the SongBloom model in " + model.description(), java.util.Map.of(), unused, k -> {
            try {
                return model.info(k).shape();
            } catch (java.io.IOException e) {
                return new long[0];
            }
        }, "the checkpoint holds modules this SongBloom config does not build; check the YAML (lm_layers, diff_layers, ...)");
        return new SongBloomModel(c, ar, dit, new StableVae(v));
    }

    public SongBloomConfig config() { return config; }

    public SongBloomAr ar() { return ar; }

    public LocalDit dit() { return dit; }

    public StableVae vae() { return vae; }

    /** Audio sample rate of the VAE (48 kHz released). */
    public int sampleRate() { return vae.vae().config().sampleRate(); }

    /** Latent frames per second (25 released). */
    public double frameRate() { return vae.vae().config().frameRate(); }

    /**
     * Generation settings.
     *
     * @param sampling  per-token sampling (LM CFG, temperature, top-k, penalty)
     * @param steps     DiT sampler steps (36 released)
     * @param diffTemp  DiT sampler temperature ({@code diff_temp}, 0.95 released)
     * @param ditCfg    DiT CFG scale (upstream uses the same cfg_coef as the LM unless a pair is given)
     * @param maxFrames stop rule's {@code max_frames} (latent frames; (150 + 10)·25 = 4000 released)
     */
    public record Settings(SamplingOptions sampling, int steps, double diffTemp, double ditCfg, int maxFrames) {
        public Settings {
            if (sampling == null) throw new IllegalArgumentException("sampling options are required");
            if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            if (!(diffTemp > 0)) throw new IllegalArgumentException("diff_temp must be positive, got " + diffTemp);
            if (!Double.isFinite(ditCfg)) throw new IllegalArgumentException("DiT cfg must be finite, got " + ditCfg);
            if (maxFrames < 1) throw new IllegalArgumentException("maxFrames must be >= 1, got " + maxFrames);
        }

        /** The released inference block with {@code maxFrames}. */
        public static Settings released(int maxFrames) {
            return new Settings(SamplingOptions.released(), FlowSampler.DEFAULT_STEPS, FlowSampler.DEFAULT_TEMPERATURE, 1.5, maxFrames);
        }
    }

    /** Everything a generation reports along the way (all methods optional). */
    public interface Observer {
        Observer NONE = new Observer() { };

        /** The prompt's VAE encoder output {@code [1, 2L, T]} and sampled latents {@code [1, L, T]} (conditional row). */
        default void onPrompt(INDArray encoderOutput, INDArray latents, INDArray cfgPrefix) { }

        default void onToken(SketchGenerator.TokenEvent event) { }

        /** One DiT call of block {@code block}: x {@code [1, S, L]}, t, h {@code [D]}, CFG-combined v {@code [1, S, L]}. */
        default void onDitStep(int block, int step, INDArray x, float t, INDArray h, INDArray v) { }

        /** A block with its latents {@code [S, L]}; {@code kept} false for the last, dropped block. */
        default void onBlock(SketchGenerator.Block block, INDArray latents, boolean kept) { }
    }

    /** Kept tokens, latents {@code [T, L]} (frames × channels), blocks sampled. */
    public record Sketch(int[] tokens, INDArray latents, int blocksSampled) { }

    /** The prompt waveform as the VAE sees it: the first {@link #PROMPT_SECONDS} seconds of a mono 48 kHz signal. */
    public float[] clipPrompt(float[] mono) {
        int keep = (int) Math.round(PROMPT_SECONDS * sampleRate());
        return mono.length <= keep ? mono : java.util.Arrays.copyOf(mono, keep);
    }

    /**
     * The CFG condition prefix {@code [2, P + Ly, D]} from a mono prompt at the VAE rate (clipped to 10 s here) and a lyric.
     * Draws one {@code [2, L, T]} from {@code gaussian}.
     */
    public INDArray conditions(float[] promptMono, TokenizedLyrics lyric, GaussianNoise gaussian, Observer obs) {
        float[] wav = clipPrompt(promptMono);
        INDArray x = Nd4j.create(wav, new long[] {1, wav.length}, 'c');
        INDArray latents;
        if (wav.length < StableVae.MIN_SAMPLES) {
            latents = Nd4j.zeros(DataType.FLOAT, config.latentDim(), 0);      // upstream: an empty latent, a zero prompt condition
            obs.onPrompt(null, latents, null);
        } else {
            OobleckVae v = vae.vae();
            INDArray out = v.encoderOutput(StableVae.toVaeChannels(x, v.config().ioChannels()));     // [1, 2L, T]
            INDArray eps = gaussian.next(2, config.latentDim(), out.size(2));                        // cond + null at once
            INDArray eps0 = eps.get(NDArrayIndex.interval(0, 1), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
            OobleckVae.Encoded e = v.bottleneck(out, GaussianNoise.replay(List.of(eps0)));
            latents = e.latent().get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).transpose().dup('c');   // [T, L]
            obs.onPrompt(out, e.latent(), null);
        }
        return ar.cfgPrefix(latents, lyric);
    }

    /**
     * The AR + DiT loop (no decode): kept sketch tokens and latents. {@code gaussian} gives the block noise (after the prompt draw),
     * {@code multinomial} the Exp(1) draws of the token sampler.
     */
    public Sketch sketch(INDArray cfgPrefix, Settings s, GaussianNoise gaussian, NoiseSource multinomial, Observer obs) {
        SketchSampler sampler = new SketchSampler(ar.vocabulary(), s.sampling(), multinomial);
        SketchGenerator g = ar.generator(cfgPrefix, sampler, s.maxFrames());
        FlowSampler flow = new FlowSampler(s.steps(), s.diffTemp(), 1.0);
        int block = config.blockSize(), latent = config.latentDim(), d = config.dim();
        SketchGenerator.Result r = g.run((b, previous) -> {
            INDArray h = b.h().reshape(1, d);
            INDArray emb = b.embeddings().reshape(1, block, d);
            INDArray hist = previous.reshape(1, block, latent);
            INDArray z = flow.sample((x, t) -> dit.forward(x, Nd4j.valueArrayOf(new long[] {x.size(0)}, t), h, emb, hist, s.ditCfg()),
                    gaussian, new long[] {1, block, latent},
                    (k, x, t, v) -> obs.onDitStep(b.index(), k, x, t, b.h(), v));
            INDArray out = z.reshape(block, latent);
            obs.onBlock(b, out, b.keep());
            return out;
        }, obs::onToken);
        return new Sketch(r.tokens(), r.latents(), r.blocksSampled());
    }

    /** Latents {@code [T, L]} to audio {@code [io, T·ratio]} at {@link #sampleRate()} (chunked decode). */
    public INDArray decode(INDArray latents) {
        INDArray z = latents.transpose().dup('c').reshape(1, config.latentDim(), latents.size(0));
        INDArray y = vae.decode(z);
        return y.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
    }
}
