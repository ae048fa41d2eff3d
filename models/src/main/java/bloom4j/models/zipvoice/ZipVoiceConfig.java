package bloom4j.models.zipvoice;

import bloom4j.nn.zipformer.ZipformerDims;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;

/**
 * The {@code model} section of ZipVoice's {@code model.json} ({@code ZipVoice.__init__}, k2-fsa/ZipVoice@2f7326f
 * {@code zipvoice/models/zipvoice.py} L38-60; the released {@code egs/zipvoice/conf/zipvoice_base.json}), plus what comes from
 * elsewhere: {@code vocab_size} and {@code pad_id} from {@code tokens.txt}, and whether the checkpoint is ZipVoice-Distill (it has
 * {@code fm_decoder.guidance_scale_embed.weight}). A key {@code model.json} omits takes the code default, as upstream's
 * {@code ZipVoice(**model_json["model"])} does.
 */
public record ZipVoiceConfig(int[] fmDownsampling, int[] fmNumLayers, int[] fmKernels, int fmFeedforwardDim, int fmHeads, int fmDim,
                             int textNumLayers, int textFeedforwardDim, int textKernel, int textHeads, int textDim, int timeEmbedDim,
                             int textEmbedDim, int queryHeadDim, int valueHeadDim, int posHeadDim, int posDim, int featDim,
                             int vocabSize, int padId, boolean distill) {

    /** {@code model.json} keys upstream's constructor takes. */
    static final Set<String> KEYS = Set.of("fm_decoder_downsampling_factor", "fm_decoder_num_layers", "fm_decoder_cnn_module_kernel",
            "fm_decoder_feedforward_dim", "fm_decoder_num_heads", "fm_decoder_dim", "text_encoder_num_layers",
            "text_encoder_feedforward_dim", "text_encoder_cnn_module_kernel", "text_encoder_num_heads", "text_encoder_dim",
            "time_embed_dim", "text_embed_dim", "query_head_dim", "value_head_dim", "pos_head_dim", "pos_dim", "feat_dim",
            "vocab_size", "pad_id");

    public ZipVoiceConfig {
        int n = fmDownsampling.length;
        if (n == 0 || fmNumLayers.length != n || fmKernels.length != n) {
            throw new IllegalArgumentException("fm_decoder_downsampling_factor, fm_decoder_num_layers and fm_decoder_cnn_module_kernel must "
                    + "have one entry per stack, got " + Arrays.toString(fmDownsampling) + ", " + Arrays.toString(fmNumLayers) + ", "
                    + Arrays.toString(fmKernels));
        }
        if (vocabSize <= 0 || padId < 0 || padId >= vocabSize) {
            throw new IllegalArgumentException("pad id " + padId + " must be inside the vocabulary of " + vocabSize);
        }
    }

    /**
     * From a {@code model.json} {@code model} object; {@code source} names the file for errors. Every present key must be an
     * integer (or a list of integers) and be one upstream knows.
     */
    public static ZipVoiceConfig fromJson(JsonNode model, int vocabSize, int padId, boolean distill, String source) {
        if (model == null || !model.isObject()) throw new IllegalArgumentException(source + ": expected an object under \"model\"");
        for (Iterator<String> it = model.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw new IllegalArgumentException(source + ": unknown key model." + k + " (ZipVoice takes " + KEYS + ")");
        }
        return new ZipVoiceConfig(ints(model, "fm_decoder_downsampling_factor", new int[] {1, 2, 4, 2, 1}, source),
                ints(model, "fm_decoder_num_layers", new int[] {2, 2, 4, 4, 4}, source),
                ints(model, "fm_decoder_cnn_module_kernel", new int[] {31, 15, 7, 15, 31}, source),
                num(model, "fm_decoder_feedforward_dim", 1536, source), num(model, "fm_decoder_num_heads", 4, source),
                num(model, "fm_decoder_dim", 512, source), num(model, "text_encoder_num_layers", 4, source),
                num(model, "text_encoder_feedforward_dim", 512, source), num(model, "text_encoder_cnn_module_kernel", 9, source),
                num(model, "text_encoder_num_heads", 4, source), num(model, "text_encoder_dim", 192, source),
                num(model, "time_embed_dim", 192, source), num(model, "text_embed_dim", 192, source),
                num(model, "query_head_dim", 32, source), num(model, "value_head_dim", 12, source), num(model, "pos_head_dim", 4, source),
                num(model, "pos_dim", 48, source), num(model, "feat_dim", 100, source), vocabSize, padId, distill);
    }

    private static int num(JsonNode m, String key, int dflt, String source) {
        JsonNode v = m.get(key);
        if (v == null) return dflt;
        if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": model." + key + " must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    private static int[] ints(JsonNode m, String key, int[] dflt, String source) {
        JsonNode v = m.get(key);
        if (v == null) return dflt;
        if (!v.isArray() || v.isEmpty()) throw new IllegalArgumentException(source + ": model." + key + " must be a list of integers, got " + v);
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || e.asLong() <= 0) {
                throw new IllegalArgumentException(source + ": model." + key + "[" + i + "] must be a positive integer, got " + e);
            }
            out[i] = e.asInt();
        }
        return out;
    }

    /** The FM decoder's layer sizes in stack {@code i}. */
    public ZipformerDims fmDims(int i) {
        return new ZipformerDims(fmDim, posDim, fmHeads, queryHeadDim, posHeadDim, valueHeadDim, fmFeedforwardDim, fmKernels[i]);
    }

    /** The text encoder's layer sizes. */
    public ZipformerDims textDims() {
        return new ZipformerDims(textDim, posDim, textHeads, queryHeadDim, posHeadDim, valueHeadDim, textFeedforwardDim, textKernel);
    }

    public int stacks() { return fmDownsampling.length; }

    /** The config as upstream's {@code model.json} writes it (the {@code model} object). */
    public java.util.Map<String, Object> toJson() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("fm_decoder_downsampling_factor", fmDownsampling);
        m.put("fm_decoder_num_layers", fmNumLayers);
        m.put("fm_decoder_cnn_module_kernel", fmKernels);
        m.put("fm_decoder_feedforward_dim", fmFeedforwardDim);
        m.put("fm_decoder_num_heads", fmHeads);
        m.put("fm_decoder_dim", fmDim);
        m.put("text_encoder_num_layers", textNumLayers);
        m.put("text_encoder_feedforward_dim", textFeedforwardDim);
        m.put("text_encoder_cnn_module_kernel", textKernel);
        m.put("text_encoder_num_heads", textHeads);
        m.put("text_encoder_dim", textDim);
        m.put("time_embed_dim", timeEmbedDim);
        m.put("text_embed_dim", textEmbedDim);
        m.put("query_head_dim", queryHeadDim);
        m.put("value_head_dim", valueHeadDim);
        m.put("pos_head_dim", posHeadDim);
        m.put("pos_dim", posDim);
        m.put("feat_dim", featDim);
        return m;
    }
}
