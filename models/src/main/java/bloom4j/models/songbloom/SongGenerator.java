package bloom4j.models.songbloom;

import bloom4j.models.GaussianNoise;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.audio.Resampler;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Song generation for services: load a converted SongBloom model folder once, then generate songs from lyrics and a prompt clip.
 *
 * <pre>{@code
 * SongGenerator g = SongGenerator.load(Path.of("models/songbloom"));
 * List<SongGenerator.Song> songs = g.generate(
 *         SongGenerator.Request.of("[verse] n i3 h ao3 . ...", Path.of("prompt.wav")).withSeed(42).withSamples(2),
 *         e -> System.out.println("song " + e.sample() + ": block " + e.block() + " of at most " + e.maxBlocks()));
 * AudioIO.write(Path.of("out_s0.flac"), songs.get(0).audio());
 * }</pre>
 *
 * <p>The model folder is what {@code bloom4j convert --from songbloom_full_150s.pt --config songbloom_full_150s.yaml --to DIR} writes:
 * config.json ({@code model_type} "songbloom", the YAML under {@code upstream_config}) and the weights, the VAE under
 * {@code vae.vae.} in the same checkpoint (as in the release .pt). A VAE stored elsewhere (e.g. {@code autoencoder_music_dsp1920.ckpt})
 * is given with {@link Options#vae}; its JSON config is found as {@link SongBloomLoader#vaeConfig} says. Loading is
 * {@link SongBloomLoader}'s; this class turns requests into songs.
 *
 * <p>Defaults come from the YAML's {@code inference} block (released: cfg 1.5, temperature 0.9, top-k 100, penalty window 50,
 * 36 DiT steps, diff_temp 0.95) and {@code max_dur} + 10 s. Not thread-safe: one generation at a time per instance.
 */
public final class SongGenerator {

    /** Load-time options. */
    public record Options(Path vae, Path lora) {
        public static Options defaults() { return new Options(null, null); }

        public Options withVae(Path p) { return new Options(p, lora); }

        public Options withLora(Path p) { return new Options(vae, p); }
    }

    /**
     * One song request. {@code prompt} (audio, any rate and channel count) or {@code promptPath} is required; the numeric fields
     * are overrides, null = the model's default. {@code lyrics} is a structured lyric: Japanese text is phonemised
     * ({@link LyricFrontEnd}), phoneme strings are taken as they are; {@code lyricsPhonemes}, when given, is used instead, as is.
     * A lyric that would lose words (pieces outside the vocabulary, unreadable words, more tokens than the conditioner keeps) is
     * refused unless {@code allowLyricLoss}.
     */
    public record Request(String lyrics, Audio prompt, Path promptPath, long seed, Integer steps, Float cfg, Integer topK,
                          Float temperature, Double maxDurationSeconds, int samples, String lyricsPhonemes,
                          boolean allowLyricLoss, bloom4j.text.songbloom.SongBloomLyrics.Lang lyricLanguage) {
        public Request {
            if (lyrics == null || lyrics.isBlank()) throw new IllegalArgumentException("lyrics: empty; give the lyric as structure tags and phonemes, e.g. '[verse] n i3 h ao3 . w o3' (README, 'bloom4j generate')");
            if (prompt == null && promptPath == null) throw new IllegalArgumentException("prompt: missing; give a prompt clip (audio or path)");
            if (steps != null && steps < 1) throw new IllegalArgumentException("steps: must be >= 1, got " + steps);
            if (cfg != null && !Float.isFinite(cfg)) throw new IllegalArgumentException("cfg: must be finite, got " + cfg);
            if (topK != null && topK < 0) throw new IllegalArgumentException("top-k: must be >= 0 (0 = off), got " + topK);
            if (temperature != null && (!Float.isFinite(temperature) || temperature < 0)) {
                throw new IllegalArgumentException("temperature: must be >= 0 (0 = greedy), got " + temperature);
            }
            if (maxDurationSeconds != null && !(maxDurationSeconds > 0)) {
                throw new IllegalArgumentException("max duration: must be > 0 seconds, got " + maxDurationSeconds);
            }
            if (samples < 1) throw new IllegalArgumentException("samples: must be >= 1, got " + samples);
        }

        public static Request of(String lyrics, Path prompt) { return builder(lyrics).prompt(prompt).build(); }

        public static Request of(String lyrics, Audio prompt) { return builder(lyrics).prompt(prompt).build(); }

        /** A builder: one sample, seed 0, every setting at the model's default until set. */
        public static Builder builder(String lyrics) { return new Builder(lyrics); }

        /** A builder starting from this request. */
        public Builder toBuilder() {
            Builder b = new Builder(lyrics);
            b.prompt = prompt;
            b.promptPath = promptPath;
            b.seed = seed;
            b.steps = steps;
            b.cfg = cfg;
            b.topK = topK;
            b.temperature = temperature;
            b.maxDurationSeconds = maxDurationSeconds;
            b.samples = samples;
            b.lyricsPhonemes = lyricsPhonemes;
            b.allowLyricLoss = allowLyricLoss;
            b.lyricLanguage = lyricLanguage;
            return b;
        }

        public Request withSeed(long s) { return toBuilder().seed(s).build(); }

        public Request withSteps(Integer v) { return toBuilder().steps(v).build(); }

        public Request withCfg(Float v) { return toBuilder().cfg(v).build(); }

        public Request withTopK(Integer v) { return toBuilder().topK(v).build(); }

        public Request withTemperature(Float v) { return toBuilder().temperature(v).build(); }

        public Request withMaxDuration(Double v) { return toBuilder().maxDuration(v).build(); }

        public Request withSamples(int n) { return toBuilder().samples(n).build(); }

        /** The one place that lists every field of a request; {@link #build} checks them all. */
        public static final class Builder {
            private final String lyrics;
            private Audio prompt;
            private Path promptPath;
            private long seed;
            private Integer steps, topK;
            private Float cfg, temperature;
            private Double maxDurationSeconds;
            private int samples = 1;
            private String lyricsPhonemes;
            private boolean allowLyricLoss;
            private bloom4j.text.songbloom.SongBloomLyrics.Lang lyricLanguage = bloom4j.text.songbloom.SongBloomLyrics.Lang.AUTO;

            private Builder(String lyrics) { this.lyrics = lyrics; }

            /** Which G2P the lyric's text goes through (default AUTO: kana → Japanese, else Han → Mandarin). */
            public Builder lyricLanguage(bloom4j.text.songbloom.SongBloomLyrics.Lang l) { lyricLanguage = l; return this; }

            /** A phoneme string to use as is instead of phonemising {@code lyrics}. */
            public Builder lyricsPhonemes(String p) { lyricsPhonemes = p; return this; }
            /** Generate even when words would be lost (a warning instead of an error). */
            public Builder allowLyricLoss(boolean on) { allowLyricLoss = on; return this; }
            public Builder prompt(Audio a) { prompt = a; promptPath = null; return this; }
            public Builder prompt(Path p) { promptPath = p; prompt = null; return this; }
            public Builder seed(long s) { seed = s; return this; }
            public Builder steps(Integer v) { steps = v; return this; }
            public Builder cfg(Float v) { cfg = v; return this; }
            public Builder topK(Integer v) { topK = v; return this; }
            public Builder temperature(Float v) { temperature = v; return this; }
            public Builder maxDuration(Double seconds) { maxDurationSeconds = seconds; return this; }
            public Builder samples(int n) { samples = n; return this; }

            public Request build() {
                return new Request(lyrics, prompt, promptPath, seed, steps, cfg, topK, temperature, maxDurationSeconds, samples,
                        lyricsPhonemes, allowLyricLoss, lyricLanguage);
            }
        }
    }

    /**
     * One generated block, streamed: sample number, block index, its tokens and latents {@code [S, L]}, whether it was kept (the
     * last sampled block is dropped), the most blocks the length limit allows, and the audio of the kept blocks so far (decoded on
     * demand: it runs the VAE decoder over everything so far).
     */
    public record BlockEvent(int sample, int block, int[] tokens, INDArray latents, boolean kept, int maxBlocks,
                             Supplier<Audio> audioSoFar) { }

    @FunctionalInterface
    public interface Listener {
        Listener NONE = e -> { };

        void onBlock(BlockEvent e);
    }

    /** A generated song: stereo audio at the VAE rate, the kept sketch tokens and latents {@code [T, L]}. */
    public record Song(int sample, Audio audio, int[] tokens, INDArray latents) { }

    private final SongBloomModel model;
    private final SamplingOptions sampling;
    private final int steps;
    private final double diffTemp;
    private final double ditCfg;
    private final double maxDurationSeconds;
    /** Where the defaults came from, for messages; null when built from explicit values. */
    private final InferenceConfig inference;

    public SongGenerator(SongBloomModel model, SamplingOptions sampling, int steps, double diffTemp, double ditCfg, double maxDurationSeconds) {
        this(model, sampling, steps, diffTemp, ditCfg, maxDurationSeconds, null);
    }

    /** A generator whose defaults are the model folder's {@code inference} block (upstream {@code infer.py} adds 10 s to max_dur). */
    public SongGenerator(SongBloomModel model, InferenceConfig inference) {
        this(model, inference.sampling(), inference.steps(), inference.diffTemp(), inference.ditCfg(),
                inference.maxDurationSeconds() + 10, inference);
    }

    private SongGenerator(SongBloomModel model, SamplingOptions sampling, int steps, double diffTemp, double ditCfg,
                          double maxDurationSeconds, InferenceConfig inference) {
        this.inference = inference;
        this.model = model;
        this.sampling = sampling;
        this.steps = steps;
        this.diffTemp = diffTemp;
        this.ditCfg = ditCfg;
        this.maxDurationSeconds = maxDurationSeconds;
    }

    public static SongGenerator load(Path modelDir) throws IOException { return load(modelDir, Options.defaults()); }

    /**
     * Loads a converted model folder through {@link SongBloomLoader} (config read once, weights checked complete, VAE and adapter
     * as {@code options} say) and sets up the CLI's thread split unless the application chose its own.
     */
    public static SongGenerator load(Path modelDir, Options options) throws IOException {
        bloom4j.nn.ComputeThreads.ensureConfigured();
        SongBloomLoader.Loaded l = SongBloomLoader.load(modelDir, options.vae(), options.lora());
        return new SongGenerator(l.model(), l.inference());
    }

    public SongBloomModel model() { return model; }

    public int sampleRate() { return model.sampleRate(); }

    /** The settings a request resolves to (request overrides over the model defaults). */
    public SongBloomModel.Settings settings(Request r) {
        SamplingOptions s = sampling;
        if (r.topK() != null) s = s.withTopK(r.topK());
        if (r.temperature() != null) s = s.withTemperature(r.temperature());
        if (r.cfg() != null) s = new SamplingOptions(r.cfg(), s.useSampling(), s.temperature(), s.topK(), s.penaltyRepeat(), s.penaltyWindow());
        double seconds = r.maxDurationSeconds() != null ? r.maxDurationSeconds() : maxDurationSeconds;
        int maxFrames = Math.max(1, (int) Math.round(seconds * model.frameRate()));
        return new SongBloomModel.Settings(s, r.steps() != null ? r.steps() : steps, diffTemp, r.cfg() != null ? r.cfg() : ditCfg, maxFrames);
    }

    /**
     * Checks a request's settings against the model before any work: top-k within the sketch classes. The message names where
     * the offending value came from (the request, the model folder's config, or the released default), never a request line
     * for a default.
     */
    public void check(Request r) {
        lyricPhonemes(r);
        checkSettings(r);
    }

    /** The top-k part of {@link #check}. */
    private void checkSettings(Request r) {
        SketchVocabulary v = model.config().sketchVocabulary();
        if (r.topK() != null) {
            if (r.topK() > v.classes()) {
                throw new IllegalArgumentException("top-k " + r.topK() + " exceeds the model's " + v.classes() + " sketch classes ("
                        + v.numCodes() + " codes + EOS): use at most " + v.classes());
            }
        } else if (inference != null) {
            inference.requireFits(v);
        } else if (sampling.topK() > v.classes()) {
            throw new IllegalArgumentException("the generator's default top_k " + sampling.topK() + " exceeds the model's "
                    + v.classes() + " sketch classes: give the request a top-k of at most " + v.classes());
        }
    }

    /**
     * The lyric as the conditioner gets it; fails naming what would be lost (unless the request allows the loss, then logs it).
     */
    public LyricFrontEnd.Prepared lyricPhonemes(Request r) {
        LyricConditioner lc = model.ar().lyricConditioner();
        LyricFrontEnd.Prepared p = LyricFrontEnd.prepare(r.lyrics(), r.lyricsPhonemes(), lc.tokenizer().vocabulary(), lc.maxLen(),
                r.lyricLanguage() == null ? bloom4j.text.songbloom.SongBloomLyrics.Lang.AUTO : r.lyricLanguage());
        if (p.lossy()) {
            if (!r.allowLyricLoss()) {
                throw new IllegalArgumentException("lyrics would lose words: " + p.loss() + "; fix the lyric or allow the loss "
                        + "(--allow-lyric-loss)");
            }
            System.getLogger("bloom4j").log(System.Logger.Level.WARNING, "lyrics lose words: " + p.loss());
        }
        return p;
    }

    /** The most blocks a request can produce. */
    public int maxBlocks(Request r) {
        SongBloomModel.Settings s = settings(r);
        int b = model.config().blockSize();
        double limit = (double) s.maxFrames() / b * (b + 1);
        return (int) Math.floor((limit - 1) / (b + 1)) + 1;
    }

    /** The prompt as the model takes it: mono (mean over channels), at the VAE rate, at most 10 s. */
    public float[] preparePrompt(Request r) throws IOException {
        Audio a = r.prompt();
        if (a == null) {
            if (!Files.isRegularFile(r.promptPath())) throw new IOException("prompt: file not found: " + r.promptPath());
            // Only the first PROMPT_SECONDS are used; decode a second more so that resampling near the cut sees the same input.
            a = AudioIO.read(r.promptPath(), SongBloomModel.PROMPT_SECONDS + 1.0);
        }
        a = a.mono();
        if (a.sampleRate() != model.sampleRate()) a = Resampler.resample(a, model.sampleRate());
        int min = model.vae().vae().config().downsamplingRatio();
        if (a.frames() < min) {
            // Shorter than one VAE latent frame: the encoder has nothing to encode (and upstream fails deep in the model).
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "prompt%s is too short: %.1f ms, at least %.1f ms "
                    + "(one VAE latent frame of %d samples at %d Hz) is needed; SongBloom was trained on %.0f s prompts",
                    r.promptPath() == null ? "" : " " + r.promptPath(), 1000.0 * a.frames() / model.sampleRate(),
                    1000.0 * min / model.sampleRate(), min, model.sampleRate(), SongBloomModel.PROMPT_SECONDS));
        }
        return model.clipPrompt(a.channel(0));
    }

    /** Generates {@code r.samples()} songs: sample i is {@link #generateSample generateSample(r, i, listener)}. */
    public List<Song> generate(Request r, Listener listener) throws IOException {
        List<Song> out = new ArrayList<>();
        for (int i = 0; i < r.samples(); i++) out.add(generateSample(r, i, listener));
        return out;
    }

    /**
     * Generates sample {@code sample} of {@code r} alone, exactly as {@link #generate} makes it (so a caller can write each sample
     * as soon as it is done). Its noise streams are seeded from the pair (seed, sample) through {@link #noiseSeed}, so no two pairs
     * share a stream: sample 1 of seed 1 is not sample 0 of seed 2.
     */
    public Song generateSample(Request r, int sample, Listener listener) throws IOException {
        if (sample < 0 || sample >= r.samples()) {
            throw new IllegalArgumentException("sample " + sample + " is outside the request's " + r.samples() + " samples");
        }
        LyricFrontEnd.Prepared lp = lyricPhonemes(r);   // phonemised once per sample, checked with the settings before any work
        checkSettings(r);
        SongBloomModel.Settings s = settings(r);
        TokenizedLyrics lyric = model.ar().lyricConditioner().tokenizer().tokenize(lp.phonemes());
        if (lyric.tokenIds().length == 0) {
            throw new IllegalArgumentException("lyrics: no token of the lyric is in the phoneme vocabulary; SongBloom takes G2P phonemes "
                    + "and structure tags ('[verse] n i3 h ao3 . ...')");
        }
        float[] prompt = preparePrompt(r);
        int maxBlocks = maxBlocks(r);
        GaussianNoise gaussian = GaussianNoise.seeded(noiseSeed(r.seed(), sample, 0));
        NoiseSource multinomial = NoiseSource.seeded(noiseSeed(r.seed(), sample, 1));
        List<INDArray> kept = new ArrayList<>();
        SongBloomModel.Observer obs = new SongBloomModel.Observer() {
            @Override public void onBlock(SketchGenerator.Block b, INDArray latents, boolean k) {
                if (k) kept.add(latents);
                List<INDArray> soFar = List.copyOf(kept);
                listener.onBlock(new BlockEvent(sample, b.index(), b.tokens(), latents, k, maxBlocks,
                        () -> toAudio(soFar.isEmpty() ? null : org.nd4j.linalg.factory.Nd4j.concat(0, soFar.toArray(new INDArray[0])))));
            }
        };
        INDArray prefix = model.conditions(prompt, lyric, gaussian, obs);
        SongBloomModel.Sketch sk = model.sketch(prefix, s, gaussian, multinomial, obs);
        return new Song(sample, toAudio(sk.latents()), sk.tokens(), sk.latents());
    }

    private Audio toAudio(INDArray latents) {
        if (latents == null) return Audio.of(new float[][] {new float[0], new float[0]}, model.sampleRate());
        return Audio.of(model.decode(latents).toFloatMatrix(), model.sampleRate());
    }

    /**
     * The seed of noise stream {@code stream} of sample {@code sample} under the user's {@code seed}: each coordinate goes through
     * its own SplitMix64 finaliser before the next is added, so the map is not a function of {@code seed + sample} (which made
     * sample 1 of seed 1 identical to sample 0 of seed 2). Public so that tests and callers can state which streams a sample uses.
     */
    public static long noiseSeed(long seed, int sample, int stream) {
        return mix(mix(mix(seed) + 0x632BE59BD9B4E019L * (sample + 1L)) + 0x8CB92BA72F3D8DD7L * (stream + 1L));
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood 2014): a bijection on 64-bit values. */
    private static long mix(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
