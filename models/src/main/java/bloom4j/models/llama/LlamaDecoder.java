package bloom4j.models.llama;

import bloom4j.nn.Attention;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.KvCache;
import bloom4j.nn.PreNormBlock;
import bloom4j.nn.RmsNorm;
import bloom4j.nn.Scope;
import bloom4j.nn.SwiGluMlp;
import org.nd4j.autodiff.samediff.SDVariable;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoder stack of HF {@code LlamaModel} fed with {@code inputs_embeds}: transformers 4.44.1 {@code modeling_llama.py}
 * ({@code LlamaModel.forward}, {@code LlamaDecoderLayer}, eager attention), without {@code embed_tokens}. Each layer is
 * <pre>
 *   h = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),   n1 = input_layernorm(x)
 *   y = h + down_proj(silu(gate_proj(n2)) · up_proj(n2)),                   n2 = post_attention_layernorm(h)
 * </pre>
 * and the stack ends with the final RMSNorm {@code norm}, whose output is HF's {@code last_hidden_state}.
 *
 * <p>Checkpoint keys under the scope (SongBloom: {@code model.ar_transformer}): {@code layers.N.self_attn.{q,k,v,o}_proj.weight},
 * {@code layers.N.mlp.{gate,up,down}_proj.weight}, {@code layers.N.input_layernorm.weight},
 * {@code layers.N.post_attention_layernorm.weight}, {@code norm.weight}. Rotary {@code inv_freq} buffers are not persistent in HF
 * and are computed from {@link LlamaConfig#ropeTheta()}.
 *
 * <p>Activations are rows {@code [B·T, hidden]}; attention is causal over the whole sequence through the mask of the
 * {@link AttentionContext}, and attends over a KV cache when given slots.
 */
public final class LlamaDecoder {
    private final LlamaConfig config;
    private final List<PreNormBlock> layers;
    private final RmsNorm norm;

    private LlamaDecoder(LlamaConfig config, List<PreNormBlock> layers, RmsNorm norm) {
        this.config = config;
        this.layers = layers;
        this.norm = norm;
    }

    /** Loads every layer and the final norm from {@code s} (the scope of the HF {@code LlamaModel}). */
    public static LlamaDecoder load(Scope s, LlamaConfig c) {
        List<PreNormBlock> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(layer(s, c, i));
        return new LlamaDecoder(c, List.copyOf(layers), finalNorm(s, c));
    }

    /**
     * Layer {@code i} alone, from {@code s} (the {@code LlamaModel} scope): for a graph that holds one layer, as training with
     * per-layer recomputation builds it.
     */
    public static PreNormBlock layer(Scope s, LlamaConfig c, int i) {
        Scope l = s.pp("layers").pp(i);
        return new PreNormBlock(
                RmsNorm.load(l.pp("input_layernorm"), c.hiddenSize(), c.rmsNormEps()),
                Attention.separate(l.pp("self_attn"), c.attentionDims(), false, false),
                RmsNorm.load(l.pp("post_attention_layernorm"), c.hiddenSize(), c.rmsNormEps()),
                SwiGluMlp.llama(l.pp("mlp"), c.hiddenSize(), c.intermediateSize()));
    }

    /** The final RMSNorm ({@code norm}) alone. */
    public static RmsNorm finalNorm(Scope s, LlamaConfig c) { return RmsNorm.load(s.pp("norm"), c.hiddenSize(), c.rmsNormEps()); }

    /**
     * Rows {@code x [B·T, hidden]} through every layer and the final norm.
     *
     * @param slots        one cache slot per layer, or null to attend only within {@code x}
     * @param layerOutputs if non-null, receives each layer's output before the final norm (HF {@code hidden_states[1..L]})
     * @return {@code last_hidden_state} rows {@code [B·T, hidden]}
     */
    public SDVariable forwardRows(SDVariable x, AttentionContext ctx, List<KvCache.Slot> slots, List<SDVariable> layerOutputs) {
        if (slots != null && slots.size() != layers.size()) {
            throw new IllegalArgumentException(slots.size() + " cache slots for " + layers.size() + " layers");
        }
        SDVariable h = x;
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).forward(h, ctx, slots == null ? null : slots.get(i));   // [B·T, hidden]
            if (layerOutputs != null) layerOutputs.add(h);
        }
        return norm.forwardRows(h);
    }

    public LlamaConfig config() { return config; }

    public List<PreNormBlock> layers() { return layers; }

    public RmsNorm norm() { return norm; }
}
