package bloom4j.models.songbloom;

import bloom4j.models.llama.LlamaConfig;
import bloom4j.tensor.io.ModelFolder;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The constructor arguments of SongBloom's {@code MVSA_DiTAR} that fix tensor shapes (tencent-ailab/SongBloom@ef78022,
 * {@code SongBloom/models/songbloom/songbloom_mvsa.py} L58-174, {@code musicgen/get_backend.py}), under
 * the names of the {@code model:} block of the released YAML ({@code songbloom_full_150s.yaml}).
 *
 * <p><b>Where the values come from.</b> {@link #resolve} reads the YAML (kept by {@code bloom4j convert --config} under
 * {@code upstream_config} in the model folder's config.json) and checks every value the weights also fix against the tensor shapes
 * (layers, width, SwiGLU width, sketch codes, block and latent sizes, sentence table); a value the YAML omits is taken from the
 * weights, or, when the weights cannot tell (heads, rotary base), from {@code MVSA_DiTAR.__init__}'s default, which is what upstream
 * itself would use. The released 150 s and 240 s models differ only here.
 *
 * @param dim                     model width ({@code dim}; 1536 released)
 * @param numHeads                attention heads of the AR LLaMA and the DiT ({@code num_heads}; 24); key/value heads are the
 *                                same ({@code get_backend} sets {@code num_key_value_heads = num_heads})
 * @param lmLayers                AR LLaMA layers ({@code lm_layers}; 36)
 * @param hiddenScale             SwiGLU width over {@code dim} ({@code hidden_scale}; 4, the constructor default)
 * @param ropeTheta               AR rotary base ({@code rotary_base_val}; 20000). The DiT's base is hard-coded upstream.
 * @param rmsNormEps              RMSNorm epsilon: HF {@code LlamaConfig}'s default 1e-6 ({@code get_backend} does not set it)
 * @param numPitch                sketch codes P ({@code num_pitch}; 16384); EOS = P, "special" = P + 1, see {@link SketchVocabulary}
 * @param blockSize               sketch tokens (and latent frames) per block ({@code block_size}; 16)
 * @param latentDim               VAE latent channels ({@code latent_dim}; 64)
 * @param diffLayers              DiT layers ({@code diff_layers}; 12)
 * @param promptMaxLen            prompt condition rows ({@code condition_provider_cfg.prompt_wav.max_len}; 250)
 * @param lyricsMaxLen            lyric condition rows ({@code condition_provider_cfg.lyrics.max_len}; 600)
 * @param maxSentencePerStructure rows of the sentence-index table ({@code ...lyrics.max_sentence_per_structure}; 50)
 */
public record SongBloomConfig(int dim, int numHeads, int lmLayers, int hiddenScale, double ropeTheta, double rmsNormEps, int numPitch,
                              int blockSize, int latentDim, int diffLayers, int promptMaxLen, int lyricsMaxLen,
                              int maxSentencePerStructure) {

    /** {@code MVSA_DiTAR.__init__} defaults for values the YAML may omit and the weights cannot tell. */
    public static final int DEFAULT_NUM_HEADS = 8;
    public static final double DEFAULT_ROTARY_BASE = 10000;
    public static final int DEFAULT_HIDDEN_SCALE = 4;
    /** HF {@code LlamaConfig.rms_norm_eps} default. */
    public static final double LLAMA_RMS_NORM_EPS = 1e-6;

    public SongBloomConfig {
        positive("dim", dim);
        positive("num_heads", numHeads);
        positive("lm_layers", lmLayers);
        positive("hidden_scale", hiddenScale);
        positive("num_pitch", numPitch);
        positive("block_size", blockSize);
        positive("latent_dim", latentDim);
        if (diffLayers < 0) throw new IllegalArgumentException("diff_layers must be >= 0, got " + diffLayers);
        positive("prompt_wav.max_len", promptMaxLen);
        positive("lyrics.max_len", lyricsMaxLen);
        positive("lyrics.max_sentence_per_structure", maxSentencePerStructure);
        if (dim % numHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of num_heads " + numHeads + " (head width dim / num_heads)");
        }
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rotary_base_val must be positive, got " + ropeTheta);
        if (!(rmsNormEps > 0)) throw new IllegalArgumentException("rms_norm_eps must be positive, got " + rmsNormEps);
    }

    private static void positive(String name, int v) {
        if (v < 1) throw new IllegalArgumentException("SongBloom config: " + name + " must be >= 1, got " + v);
    }

    /** The songbloom-ar / songbloom-generate fixtures' model: 80 wide, 2 heads, 2 layers, 32 codes, blocks of 4, latent 8. */
    public static SongBloomConfig tiny() { return new SongBloomConfig(80, 2, 2, 2, 20000, LLAMA_RMS_NORM_EPS, 32, 4, 8, 2, 6, 12, 50); }

    /** The released 150 s model ({@code songbloom_full_150s.yaml}). */
    public static SongBloomConfig released150s() {
        return new SongBloomConfig(1536, 24, 36, 4, 20000, LLAMA_RMS_NORM_EPS, 16384, 16, 64, 12, 250, 600, 50);
    }

    /** Head width, {@code dim / num_heads}. */
    public int headDim() { return dim / numHeads; }

    /** SwiGLU width of the LLaMA ({@code intermediate_size = dim · hidden_scale}). */
    public int ffnDim() { return dim * hiddenScale; }

    /** The AR backbone as {@code get_backend('llama', ...)} builds it. */
    public LlamaConfig llama() { return new LlamaConfig(dim, ffnDim(), numHeads, numHeads, lmLayers, ropeTheta, rmsNormEps); }

    public SketchVocabulary sketchVocabulary() { return new SketchVocabulary(numPitch); }

    /** Rows of the condition prefix: {@code [prompt | lyrics]}. */
    public int prefixLength() { return promptMaxLen + lyricsMaxLen; }

    /** Inputs of {@code block_conv}: one block of latents flattened, {@code block_size · latent_dim}. */
    public int blockConvIn() { return blockSize * latentDim; }

    /** AR positions per generated block: the sketch tokens plus the block_conv token. */
    public int positionsPerBlock() { return blockSize + 1; }

    // ------------------------------------------------------------------------------------------------------------------------------
    // Reading

    /**
     * From the upstream YAML alone (no weights to check against): omitted values take {@code MVSA_DiTAR.__init__}'s defaults where
     * it has one; {@code num_pitch}, {@code dim}, {@code lm_layers}, {@code block_size}, {@code latent_dim} and the condition lengths
     * are required.
     */
    public static SongBloomConfig fromUpstream(JsonNode upstream) {
        return resolve(upstream, null);
    }

    /**
     * The config of a SongBloom checkpoint: YAML values checked against the weights, gaps filled from them (see the class comment).
     * {@code weights} may be null (then as {@link #fromUpstream}).
     *
     * @throws IllegalArgumentException naming the YAML key, both values and the fix when the YAML and the weights disagree, or a
     *                                  required value is missing from both
     */
    public static SongBloomConfig resolve(JsonNode upstream, TensorSource weights) {
        JsonNode m = modelBlock(upstream);
        Shapes w = new Shapes(weights);
        List<String> errors = new ArrayList<>();
        Resolver r = new Resolver(m, w, errors);

        long[] emb = w.shape("model.skeleton_emb.weight");
        long[] gate = w.shape("model.ar_transformer.layers.0.mlp.gate_proj.weight");
        long[] conv = w.shape("model.block_conv.1.weight");
        long[] prompt = w.shape("model.condition_provider.conditioners.prompt_wav.output_proj.weight");
        long[] sent = w.shape("model.condition_provider.conditioners.lyrics.sentence_idx_in_structure_emb.weight");

        int dim = r.intValue("dim", emb == null ? null : emb[1], "model.skeleton_emb.weight " + Arrays.toString(emb) + " (columns)", null);
        int layers = r.intValue("lm_layers", w.count("model.ar_transformer.layers."), "model.ar_transformer.layers.N", null);
        int numPitch = r.intValue("num_pitch", emb == null ? null : emb[0] - 2,
                "model.skeleton_emb.weight " + Arrays.toString(emb) + " (rows = num_pitch + 2)", null);
        int scale = r.intValue("hidden_scale", gate == null || dim == 0 || gate[0] % dim != 0 ? null : gate[0] / dim,
                "model.ar_transformer.layers.0.mlp.gate_proj.weight " + Arrays.toString(gate) + " (rows = dim · hidden_scale)",
                (long) DEFAULT_HIDDEN_SCALE);
        int latent = r.intValue("latent_dim", prompt == null ? null : prompt[1],
                "model.condition_provider.conditioners.prompt_wav.output_proj.weight " + Arrays.toString(prompt) + " (columns)", null);
        int block = r.intValue("block_size", conv == null || latent == 0 || conv[1] % latent != 0 ? null : conv[1] / latent,
                "model.block_conv.1.weight " + Arrays.toString(conv) + " (columns = block_size · latent_dim)", null);
        int diff = r.intValue("diff_layers", weights == null ? null : w.count("model.nar_dit.layers."), "model.nar_dit.layers.N",
                0L);
        int heads = r.intValue("num_heads", null, null, (long) DEFAULT_NUM_HEADS);
        double theta = r.doubleValue("rotary_base_val", DEFAULT_ROTARY_BASE);
        JsonNode cond = m.path("condition_provider_cfg");
        int promptLen = r.intValue(cond.path("prompt_wav"), "condition_provider_cfg.prompt_wav.max_len", "max_len");
        int lyricsLen = r.intValue(cond.path("lyrics"), "condition_provider_cfg.lyrics.max_len", "max_len");
        int sentences = r.intValue("condition_provider_cfg.lyrics.max_sentence_per_structure",
                cond.path("lyrics").path("max_sentence_per_structure"), sent == null ? null : sent[0],
                "model.condition_provider.conditioners.lyrics.sentence_idx_in_structure_emb.weight " + Arrays.toString(sent) + " (rows)",
                null);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("SongBloom config does not fit"
                    + (weights == null ? "" : " the weights in " + weights.description()) + ":\n  " + String.join("\n  ", errors));
        }
        if (weights != null && dim != 0 && layers != 0) checkLayerShapes(weights, w, dim, scale, layers);
        return new SongBloomConfig(dim, heads, layers, scale, theta, LLAMA_RMS_NORM_EPS, numPitch, block, latent, diff, promptLen,
                lyricsLen, sentences);
    }

    /** Every AR layer must have the shapes of layer 0: a truncated or mixed checkpoint fails here, not in the middle of a forward. */
    private static void checkLayerShapes(TensorSource weights, Shapes w, int dim, int scale, int layers) {
        for (int i = 0; i < layers; i++) {
            String p = "model.ar_transformer.layers." + i + ".";
            long[] q = w.shape(p + "self_attn.q_proj.weight");
            long[] down = w.shape(p + "mlp.down_proj.weight");
            if (q == null || down == null) {
                throw new IllegalArgumentException(weights.description() + ": AR layer " + i + " lacks "
                        + (q == null ? p + "self_attn.q_proj.weight" : p + "mlp.down_proj.weight") + "; the checkpoint is incomplete");
            }
            if (q[0] != dim || q[1] != dim || down[0] != dim || down[1] != (long) dim * scale) {
                throw new IllegalArgumentException(weights.description() + ": AR layer " + i + " has q_proj " + Arrays.toString(q)
                        + " and down_proj " + Arrays.toString(down) + ", expected [" + dim + ", " + dim + "] and [" + dim + ", "
                        + (long) dim * scale + "]");
            }
        }
    }

    /**
     * The config of a bloom4j model folder: config.json must be of {@code model_type} "songbloom" and carry the upstream YAML under
     * {@code upstream_config} (written by {@code bloom4j convert --config songbloom_full_150s.yaml}); checked against the weights.
     */
    public static SongBloomConfig fromModelFolder(Path folder, TensorSource weights) throws IOException {
        return fromModelFolder(ModelFolder.open(folder), weights);
    }

    /** {@link #fromModelFolder(Path, TensorSource)} for a folder already read. */
    public static SongBloomConfig fromModelFolder(ModelFolder folder, TensorSource weights) throws IOException {
        try {
            folder.requireType("songbloom");
            JsonNode upstream = folder.requireUpstream("the model's heads and rotary base are not in the weights",
                    "songbloom_full_150s.yaml");
            return resolve(upstream, weights);
        } catch (bloom4j.tensor.io.CheckpointException e) {
            throw new SongBloomWeightException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new SongBloomWeightException(folder.configFile() + ": " + e.getMessage());
        }
    }

    /**
     * The {@code model:} block of a SongBloom YAML root, the {@code MVSA_DiTAR} block of a fixture's config, or the node itself when
     * it already is a model block.
     */
    static JsonNode modelBlock(JsonNode upstream) {
        if (upstream == null || !upstream.isObject()) throw new IllegalArgumentException("SongBloom config: expected a mapping, got " + upstream);
        if (upstream.path("model").isObject()) return upstream.get("model");
        if (upstream.path("MVSA_DiTAR").isObject()) return upstream.get("MVSA_DiTAR");
        if (upstream.has("dim") || upstream.has("lm_layers") || upstream.has("num_pitch") || upstream.has("condition_provider_cfg")) {
            return upstream;
        }
        throw new IllegalArgumentException("SongBloom config: no 'model' block (the released YAML has 'model: {dim: 1536, num_heads: 24, "
                + "lm_layers: 36, ...}'); top-level keys are " + fieldNames(upstream));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Tensor shapes of an optional weight source. */
    private static final class Shapes {
        private final TensorSource src;

        Shapes(TensorSource src) { this.src = src; }

        long[] shape(String key) {
            if (src == null || !src.contains(key)) return null;
            try {
                return src.info(key).shape();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the header of '" + key + "' in " + src.description(), e);
            }
        }

        /** Number of consecutive indices N for which {@code <prefix>N.} keys exist; null without a source. */
        Long count(String prefix) {
            if (src == null) return null;
            Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\.");
            long max = -1;
            for (String n : src.names()) {
                Matcher mt = p.matcher(n);
                if (mt.lookingAt()) max = Math.max(max, Long.parseLong(mt.group(1)));
            }
            return max < 0 ? null : max + 1;
        }
    }

    /** Reads one value from the YAML, checks it against the weights, collects errors. */
    private record Resolver(JsonNode m, Shapes w, List<String> errors) {

        int intValue(String key, Long fromWeights, String weightWhere, Long fallback) {
            return intValue(key, m.path(key), fromWeights, weightWhere, fallback);
        }

        int intValue(JsonNode parent, String fullKey, String leaf) {
            return intValue(fullKey, parent.path(leaf), null, null, null);
        }

        int intValue(String key, JsonNode node, Long fromWeights, String weightWhere, Long fallback) {
            Long yaml = null;
            if (!node.isMissingNode() && !node.isNull()) {
                if (node.isIntegralNumber()) yaml = node.asLong();
                else if (node.isTextual() && node.asText().matches("-?\\d+")) yaml = Long.parseLong(node.asText());
                else {
                    errors.add(key + " is " + node + ", expected an integer");
                    return 0;
                }
            }
            if (yaml != null && fromWeights != null && !yaml.equals(fromWeights)) {
                errors.add(key + " is " + yaml + " in the config but " + fromWeights + " in the weights (" + weightWhere + "): the "
                        + "YAML belongs to another model; use the YAML released with this checkpoint");
                return 0;
            }
            Long v = yaml != null ? yaml : fromWeights != null ? fromWeights : fallback;
            if (v == null) {
                errors.add("missing " + key + " (not in the config" + (weightWhere == null ? "" : ", and no " + weightWhere + " to read it from")
                        + ")");
                return 0;
            }
            if (v < 1 && !(key.equals("diff_layers") && v == 0)) {
                errors.add(key + " must be >= 1, got " + v);
                return 0;
            }
            return Math.toIntExact(v);
        }

        double doubleValue(String key, double fallback) {
            JsonNode n = m.path(key);
            if (n.isMissingNode() || n.isNull()) return fallback;
            if (n.isNumber()) return n.asDouble();
            if (n.isTextual()) {
                try {
                    return Double.parseDouble(n.asText());
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            errors.add(key + " is " + n + ", expected a number");
            return fallback;
        }
    }
}
