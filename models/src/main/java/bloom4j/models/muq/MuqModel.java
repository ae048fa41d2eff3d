package bloom4j.models.muq;

import bloom4j.tensor.io.CheckpointException;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.ModelFolder;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * MuQ (tencent-ailab/MuQ, {@code OpenMuQ/MuQ-large-msd-iter}) as a music encoder: 24 kHz mono waveform → hidden states at 25 frames/s.
 * Front end {@link MelFrontEnd}, encoder {@link MuqEncoder}.
 *
 * <pre>{@code
 * MuqModel muq = MuqModel.load(Path.of("muq-large"));          // a converted folder, model.safetensors or the .pt
 * float[] h = muq.encode(wave24k, 12);                          // [T', 1024], T' = ⌈⌈⌊L/240⌋/2⌉/2⌉, the last hidden state
 * }</pre>
 *
 * <h2>Long audio</h2>
 * Upstream runs the whole input in one pass; its attention is O(T'²) and a 10-minute song would need about 14 GB of scores per
 * layer. bloom4j cuts the token sequence into windows of {@link Options#windowTokens} (default 750 = 30 s, MuQ's training length)
 * and keeps each window's core, with {@link Options#contextTokens} (default 125 = 5 s) of context on each side that is computed and
 * thrown away. An input of at most one window is one pass, identical to upstream. A window's mel frames are the same frames as in
 * the whole-song mel (the front end reads the song through a virtual reflect padding), and the stem runs in exact chunks, so memory
 * is bounded by one window whatever the song length.
 */
public final class MuqModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * How long inputs are processed.
     *
     * @param windowTokens    tokens per conformer pass (750 = 30 s)
     * @param contextTokens   discarded context on each side of a window's core (125 = 5 s); windowTokens > 2·contextTokens
     * @param stemChunkFrames mel frames per stem pass (a multiple of 4; 384 keeps its im2col buffer near 250 MB at the real size)
     */
    public record Options(int windowTokens, int contextTokens, int stemChunkFrames) {
        public Options {
            if (windowTokens < 1 || contextTokens < 0 || windowTokens <= 2 * contextTokens) {
                throw new IllegalArgumentException("window " + windowTokens + " tokens must exceed twice the context " + contextTokens);
            }
            if (stemChunkFrames < 4 || stemChunkFrames % 4 != 0) {
                throw new IllegalArgumentException("stem chunk must be a positive multiple of 4 mel frames, got " + stemChunkFrames);
            }
        }

        public static Options defaults() { return new Options(750, 125, 384); }
    }

    private final MuqConfig cfg;
    private final MelFrontEnd frontEnd;
    private final MuqEncoder encoder;
    private final Options options;

    private MuqModel(MuqConfig cfg, MuqEncoder encoder, Options options) {
        this.cfg = cfg;
        this.frontEnd = new MelFrontEnd(cfg);
        this.encoder = encoder;
        this.options = options;
    }

    /** Loads weights from {@code src} (keys under {@link #detectPrefix}). */
    public static MuqModel load(TensorSource src, MuqConfig cfg, Options options) {
        return new MuqModel(cfg, MuqEncoder.load(src, detectPrefix(src.names()), cfg), options);
    }

    /**
     * Loads a bloom4j model folder (model_type "muq", the hub config under {@code upstream_config}), a hub download (a folder
     * with the hub config.json and the weights), or a checkpoint file
     * ({@code model.safetensors}, the PyTorch {@code .pt}/{@code .bin}) with the hub {@code config.json} next to it. Without a
     * config it fails: MuQ's head count, rotary base and front end are not in the weights, and guessing MuQ-large would run a
     * smaller model wrong.
     */
    public static MuqModel load(Path path, Options options) throws IOException {
        MuqConfig cfg;
        if (Files.isDirectory(path)) {
            Path cj = path.resolve(ModelFolder.CONFIG);
            JsonNode json = Files.isRegularFile(cj) ? readJson(cj) : null;
            if (json != null && !json.has("model_type")) {
                // a hub download (config.json + model.safetensors or pytorch_model.bin) rather than a converted folder
                cfg = config(json, cj);
                try (TensorSource src = Checkpoints.open(path)) {
                    return load(src, cfg, options);
                }
            }
            ModelFolder folder = (json == null ? ModelFolder.open(path) : ModelFolder.of(path, json)).requireType("muq");
            cfg = config(folder.requireUpstream("MuQ's heads, rotary base and front end are not in the weights",
                    "config.json (the MuQ hub config)"), folder.configFile());
            try (TensorSource src = folder.openWeights()) {
                return load(src, cfg, options);
            }
        }
        Path cj = path.toAbsolutePath().resolveSibling("config.json");
        if (!Files.isRegularFile(cj)) {
            throw new CheckpointException(path, "no config.json next to it: MuQ's heads, rotary base and front end are not in the "
                    + "weights. Put the hub config.json beside the checkpoint, or convert both into a model folder: 'bloom4j convert "
                    + "--from " + path.getFileName() + " --config config.json --to <folder>'");
        }
        cfg = config(readJson(cj), cj);
        try (TensorSource src = Checkpoints.open(path)) {
            return load(src, cfg, options);
        }
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(file, "not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static MuqConfig config(JsonNode json, Path file) throws CheckpointException {
        try {
            return MuqConfig.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, e.getMessage());
        }
    }

    public static MuqModel load(Path path) throws IOException { return load(path, Options.defaults()); }

    /**
     * The key prefix of the MuQ modules: {@code model.} (released {@code MuQ}), {@code mulan.audio.model.model.} (the MuQ inside a
     * MuQ-MuLan checkpoint), or none (a bare {@code MuQModel} state dict).
     */
    public static String detectPrefix(List<String> names) {
        for (String p : new String[] {MuqWeights.PREFIX, "mulan.audio.model.model.", ""}) {
            if (names.contains(p + "conv.linear.weight")) return p;
        }
        throw new IllegalArgumentException("not a MuQ checkpoint: no 'model.conv.linear.weight' (nor a MuQ-MuLan or bare MuQModel "
                + "equivalent) among " + names.size() + " tensors");
    }

    /** The same weights with other long-audio options. */
    public MuqModel withOptions(Options o) { return new MuqModel(cfg, encoder, o); }

    public MuqConfig config() { return cfg; }

    public MelFrontEnd frontEnd() { return frontEnd; }

    public MuqEncoder encoder() { return encoder; }

    public Options options() { return options; }

    /** Checkpoint keys inference does not read (skipped; see {@link MuqWeights}). */
    public List<String> unusedKeys() { return encoder.unusedKeys(); }

    /** Tokens of a 24 kHz waveform of {@code samples} samples. */
    public long tokens(long samples) { return cfg.tokens(samples); }

    /** Hidden state {@code layer} (0 = conv stem .. depth = last_hidden_state) of a 24 kHz mono waveform: {@code [T', d]}. */
    public float[] encode(float[] wave24k, int layer) { return encode(wave24k, new int[] {layer}, null)[0]; }

    /**
     * Several hidden states of one waveform, each {@code [T', d]}, window by window (see the class comment); {@code progress}, if
     * not null, receives the number of tokens finished after each window.
     */
    public float[][] encode(float[] wave24k, int[] layers, IntConsumer progress) {
        int d = cfg.encoderDim();
        int melTotal = Math.toIntExact(cfg.melFrames(wave24k.length));
        int tokens = Math.toIntExact(MuqConfig.tokensOfMel(melTotal));
        if (tokens == 0) throw new IllegalArgumentException("audio too short for MuQ: " + wave24k.length + " samples give no 40 ms frame");
        float[][] out = new float[layers.length][(int) ((long) tokens * d)];
        int w = options.windowTokens(), ctx = options.contextTokens(), core = tokens <= w ? tokens : w - 2 * ctx;
        for (int c0 = 0; c0 < tokens; c0 += core) {
            int c1 = Math.min(tokens, c0 + core);
            int w0 = Math.max(0, c0 - ctx), w1 = Math.min(tokens, c1 + ctx);
            if (w0 == 0) w1 = Math.min(tokens, Math.max(w1, w));        // use the full window at the ends
            if (w1 == tokens) w0 = Math.max(0, Math.min(w0, tokens - w));
            int m0 = 4 * w0, m1 = Math.min(melTotal, 4 * w1);
            float[] mel = frontEnd.features(wave24k, m0, m1 - m0);
            float[] h0 = encoder.stem(mel, m1 - m0, options.stemChunkFrames());
            int n = w1 - w0;
            for (int i = 0; i < layers.length; i++) {
                float[] h = encoder.hiddenState(h0, n, layers[i]);
                System.arraycopy(h, (c0 - w0) * d, out[i], c0 * d, (c1 - c0) * d);
            }
            if (progress != null) progress.accept(c1);
        }
        return out;
    }
}
