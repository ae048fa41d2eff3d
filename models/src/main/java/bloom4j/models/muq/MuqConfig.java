package bloom4j.models.muq;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The MuQ sizes that inference needs, read from the hub {@code config.json} ({@code MuQConfig}, tencent-ailab/MuQ@d4a6658
 * {@code src/muq/muq/muq.py} L9-33). Everything else in that file (targets, masking, codebooks) is
 * training-only.
 *
 * @param sampleRate       24000: MuQ strictly requires 24 kHz input
 * @param nFft             2048 (feature "melspec_2048")
 * @param hopLength        240 (100 mel frames/s)
 * @param nMels            128
 * @param statMean         global mel mean ({@code stat.melspec_2048_mean})
 * @param statStd          global mel std ({@code stat.melspec_2048_std})
 * @param convDim          channels of the conv stem (512)
 * @param encoderDim       conformer width (1024; overrides {@code w2v2_config.hidden_size})
 * @param encoderDepth     conformer layers (12; overrides {@code w2v2_config.num_hidden_layers})
 * @param heads            attention heads ({@code w2v2_config.num_attention_heads}, 16)
 * @param intermediateSize feed-forward width ({@code w2v2_config.intermediate_size}, 4096)
 * @param depthwiseKernel  conv-module kernel ({@code w2v2_config.conv_depthwise_kernel_size}, 31)
 * @param layerNormEps     1e-5
 * @param rotaryBase       10000
 */
public record MuqConfig(int sampleRate, int nFft, int hopLength, int nMels, double statMean, double statStd, int convDim,
                        int encoderDim, int encoderDepth, int heads, int intermediateSize, int depthwiseKernel, double layerNormEps,
                        double rotaryBase) {

    /** The token rate: 24000 / 240 / 4 = 25 Hz (the stem halves time twice). */
    public static final int TOKENS_PER_SECOND = 25;
    /** Samples per token at 24 kHz: 960 (40 ms). */
    public static final int SAMPLES_PER_TOKEN = 960;

    public MuqConfig {
        if (sampleRate != 24000) throw new IllegalArgumentException("MuQ runs at 24000 Hz, config says " + sampleRate);
        if (nFft < 2 || nFft % 2 != 0) throw new IllegalArgumentException("n_fft must be even, got " + nFft);
        if (hopLength != 240) throw new IllegalArgumentException("hop_length must be 240 (25 tokens/s after the stem), got " + hopLength);
        if (nMels < 4 || nMels % 4 != 0) throw new IllegalArgumentException("n_mels must be a multiple of 4, got " + nMels);
        if (!(statStd > 0)) throw new IllegalArgumentException("stat std must be > 0, got " + statStd);
        if (convDim < 1 || encoderDim < 1 || encoderDepth < 1 || intermediateSize < 1) {
            throw new IllegalArgumentException("sizes must be positive: " + this);
        }
        if (heads < 1 || encoderDim % heads != 0 || (encoderDim / heads) % 2 != 0) {
            throw new IllegalArgumentException("encoder_dim " + encoderDim + " must split into " + heads + " heads of even width");
        }
        if (depthwiseKernel < 1 || depthwiseKernel % 2 == 0) {
            throw new IllegalArgumentException("conv_depthwise_kernel_size must be odd, got " + depthwiseKernel);
        }
    }

    /** OpenMuQ/MuQ-large-msd-iter (recipe values). */
    public static MuqConfig large() {
        return new MuqConfig(24000, 2048, 240, 128, 6.768444971712967, 18.417922652295623, 512, 1024, 12, 16, 4096, 31, 1e-5, 10000);
    }

    /**
     * From a hub {@code config.json} (the {@code MuQConfig} fields, {@code w2v2_config} nested) or a bloom4j model folder's
     * config.json, which keeps it under {@code upstream_config}.
     */
    public static MuqConfig fromJson(JsonNode root) {
        JsonNode c = root.has("upstream_config") ? root.get("upstream_config") : root;
        JsonNode w = c.path("w2v2_config");
        if (!c.has("encoder_dim") || w.isMissingNode()) {
            throw new IllegalArgumentException("not a MuQ config: expected 'encoder_dim' and 'w2v2_config' (the hub config.json of "
                    + "OpenMuQ/MuQ-large-msd-iter)");
        }
        if (c.path("label_rate").asInt(25) != 25) {
            throw new IllegalArgumentException("label_rate " + c.get("label_rate") + " is not supported: only 25 (stem strides [2, 2])");
        }
        String act = w.path("hidden_act").asText("swish");
        if (!act.equals("swish") && !act.equals("silu")) throw new IllegalArgumentException("hidden_act '" + act + "' is not supported: swish");
        String pos = w.path("position_embeddings_type").asText("rotary");
        if (!pos.equals("rotary")) throw new IllegalArgumentException("position_embeddings_type '" + pos + "' is not supported: rotary");
        if (c.path("is_flash").asBoolean(false)) {
            throw new IllegalArgumentException("is_flash=true (MuQ's flash conformer) is not supported; the released model uses false");
        }
        JsonNode stat = c.path("stat");
        return new MuqConfig(24000, 2048, c.path("hop_length").asInt(240), c.path("n_mels").asInt(128),
                stat.path("melspec_2048_mean").asDouble(6.768444971712967), stat.path("melspec_2048_std").asDouble(18.417922652295623),
                c.path("conv_dim").asInt(512), c.path("encoder_dim").asInt(1024), c.path("encoder_depth").asInt(12),
                w.path("num_attention_heads").asInt(16), w.path("intermediate_size").asInt(4096),
                w.path("conv_depthwise_kernel_size").asInt(31), w.path("layer_norm_eps").asDouble(1e-5),
                w.path("rotary_embedding_base").asDouble(10000));
    }

    /** One-sided FFT bins: n_fft/2 + 1 = 1025. */
    public int freqBins() { return nFft / 2 + 1; }

    public int headDim() { return encoderDim / heads; }

    /** Hidden states returned by the encoder: the stem output plus one per layer (13 for the large model). */
    public int hiddenStates() { return encoderDepth + 1; }

    /** Width of the stem's flattened output: conv_dim · n_mels/4 (16384). */
    public int stemFeatures() { return convDim * (nMels / 4); }

    /** Mel frames of {@code samples}: the STFT gives 1 + ⌊L/240⌋ and MuQ drops the last, so ⌊L/240⌋. */
    public long melFrames(long samples) { return samples / hopLength; }

    /** Tokens of {@code samples}: ⌈⌈T_mel/2⌉/2⌉ (two stride-2, kernel-3, pad-1 convolutions). */
    public long tokens(long samples) { return tokensOfMel(melFrames(samples)); }

    public static long tokensOfMel(long melFrames) { return ((melFrames + 1) / 2 + 1) / 2; }
}
