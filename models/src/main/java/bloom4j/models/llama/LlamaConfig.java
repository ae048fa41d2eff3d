package bloom4j.models.llama;

import bloom4j.nn.AttentionDims;
import bloom4j.nn.RotaryEmbedding;

/**
 * The sizes of an HF {@code LlamaModel} decoder stack (transformers 4.44.1 {@code configuration_llama.py}), under the HF names.
 * Only what the stack computes is here: no vocabulary (SongBloom deletes {@code embed_tokens} and feeds {@code inputs_embeds}), no
 * rope scaling, no biases ({@code attention_bias = mlp_bias = False}), SiLU activation.
 *
 * @param hiddenSize        model width ({@code hidden_size})
 * @param intermediateSize  SwiGLU width ({@code intermediate_size})
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads  key/value heads (grouped-query attention when fewer than the query heads)
 * @param numHiddenLayers   decoder layers
 * @param ropeTheta         rotary base ({@code rope_theta})
 * @param rmsNormEps        RMSNorm epsilon ({@code rms_norm_eps})
 */
public record LlamaConfig(int hiddenSize, int intermediateSize, int numAttentionHeads, int numKeyValueHeads, int numHiddenLayers,
                          double ropeTheta, double rmsNormEps) {

    public LlamaConfig {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numAttentionHeads <= 0 || numKeyValueHeads <= 0 || numHiddenLayers <= 0) {
            throw new IllegalArgumentException("Llama sizes must be positive: " + describe(hiddenSize, intermediateSize,
                    numAttentionHeads, numKeyValueHeads, numHiddenLayers));
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numAttentionHeads + " (head_dim = hidden_size / num_attention_heads must be whole)");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads "
                    + numKeyValueHeads);
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + hiddenSize / numAttentionHeads + " is odd; rotary embedding needs an even one");
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) throw new IllegalArgumentException("rope_theta must be positive, got " + ropeTheta);
        if (!(rmsNormEps > 0) || rmsNormEps >= 1) throw new IllegalArgumentException("rms_norm_eps must be in (0, 1), got " + rmsNormEps);
    }

    private static String describe(int h, int i, int a, int kv, int l) {
        return "hidden_size=" + h + " intermediate_size=" + i + " num_attention_heads=" + a + " num_key_value_heads=" + kv
                + " num_hidden_layers=" + l;
    }

    /** A two-layer stack for tests: width 16, 4 heads over 2 kv heads, SwiGLU 40. */
    public static LlamaConfig tiny() { return new LlamaConfig(16, 40, 4, 2, 2, 10000, 1e-6); }

    /** {@code hidden_size / num_attention_heads}. */
    public int headDim() { return hiddenSize / numAttentionHeads; }

    public AttentionDims attentionDims() { return new AttentionDims(hiddenSize, numAttentionHeads, numKeyValueHeads, headDim()); }

    /** HF default rope: the whole head rotated, base {@code rope_theta}. */
    public RotaryEmbedding rope() { return RotaryEmbedding.full(headDim(), ropeTheta); }

    /** Parameters of one decoder layer: q, k, v, o, gate, up, down and the two norm gains. */
    public long paramsPerLayer() {
        long h = hiddenSize;
        long kv = (long) numKeyValueHeads * headDim();
        return h * h * 2 + 2 * h * kv + 3 * h * intermediateSize + 2 * h;
    }

    /** Parameters of the stack: the layers plus the final norm gain. */
    public long params() { return paramsPerLayer() * numHiddenLayers + hiddenSize; }

    public LlamaConfig withLayers(int layers) {
        return new LlamaConfig(hiddenSize, intermediateSize, numAttentionHeads, numKeyValueHeads, layers, ropeTheta, rmsNormEps);
    }

    @Override public String toString() {
        return "LlamaConfig[" + describe(hiddenSize, intermediateSize, numAttentionHeads, numKeyValueHeads, numHiddenLayers)
                + " rope_theta=" + ropeTheta + " rms_norm_eps=" + rmsNormEps + "]";
    }
}
