package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A test fixture: a stack of Llama-named pre-norm blocks ({@code model.layers.i.input_layernorm}, {@code self_attn.q_proj}, ...,
 * {@code mlp.down_proj}) over inputs {@code x [B, T, hidden]}, causal, with rotary tables, an additive mask and optional KV-cache slots.
 * Weights come from the given source (see {@link #weights}).
 */
public final class TinyDecoder {

    public record Config(int hidden, int heads, int kvHeads, int headDim, int rotaryDim, int ffn, int layers, double base) {
        AttentionDims dims() { return new AttentionDims(hidden, heads, kvHeads, headDim); }
    }

    public final Config cfg;
    public final SameDiff sd = SameDiff.create();
    public final SDVariable x, mask, y;
    public final RotaryEmbedding rope;
    public final RotaryEmbedding.Tables tables;
    public final List<KvCache.Slot> slots = new ArrayList<>();
    public final Scope root;

    /** Every weight of the stack under its Llama key, drawn from N(0, 0.3²) (norm gains around 1). */
    public static Map<String, INDArray> weights(Config c, long seed, DataType dtype) {
        Map<String, INDArray> m = new java.util.LinkedHashMap<>();
        AttentionDims d = c.dims();
        Init w = Init.normal(0.3, seed);
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", w.create(p + "input_layernorm.weight", new long[] {c.hidden()}, dtype).addi(1));
            m.put(p + "self_attn.q_proj.weight", w.create(p + "q", new long[] {d.qDim(), c.hidden()}, dtype));
            m.put(p + "self_attn.k_proj.weight", w.create(p + "k", new long[] {d.kvDim(), c.hidden()}, dtype));
            m.put(p + "self_attn.v_proj.weight", w.create(p + "v", new long[] {d.kvDim(), c.hidden()}, dtype));
            m.put(p + "self_attn.o_proj.weight", w.create(p + "o", new long[] {c.hidden(), d.qDim()}, dtype));
            m.put(p + "post_attention_layernorm.weight", w.create(p + "post", new long[] {c.hidden()}, dtype).addi(1));
            m.put(p + "mlp.gate_proj.weight", w.create(p + "gate", new long[] {c.ffn(), c.hidden()}, dtype));
            m.put(p + "mlp.up_proj.weight", w.create(p + "up", new long[] {c.ffn(), c.hidden()}, dtype));
            m.put(p + "mlp.down_proj.weight", w.create(p + "down", new long[] {c.hidden(), c.ffn()}, dtype));
        }
        return m;
    }

    /** {@code batch} -1 for a dynamic batch; {@code cached} adds a KV-cache slot per layer. */
    public TinyDecoder(Config cfg, ParamSource source, LoadOptions options, long batch, boolean cached) {
        this.cfg = cfg;
        DataType dt = options.dtype();
        root = Scope.root(sd, source, options);
        x = sd.placeHolder("x", dt, batch, -1, cfg.hidden());
        rope = new RotaryEmbedding(cfg.headDim(), cfg.rotaryDim(), cfg.base());
        tables = rope.placeholders(sd, "rope", dt);
        mask = sd.placeHolder("mask", dt, -1, -1);
        AttentionContext ctx = AttentionContext.of(SeqShape.of(x), tables, mask);
        SDVariable h = x.reshape(-1, cfg.hidden());                                                // [B·T, hidden]
        for (int i = 0; i < cfg.layers(); i++) {
            Scope l = root.pp("model.layers").pp(i);
            PreNormBlock block = new PreNormBlock(RmsNorm.load(l.pp("input_layernorm"), cfg.hidden(), 1e-6),
                    Attention.separate(l.pp("self_attn"), cfg.dims(), false, false),
                    RmsNorm.load(l.pp("post_attention_layernorm"), cfg.hidden(), 1e-6),
                    SwiGluMlp.llama(l.pp("mlp"), cfg.hidden(), cfg.ffn()));
            KvCache.Slot slot = cached ? KvCache.slot(sd, l.pp("self_attn").path(), cfg.dims(), dt) : null;
            if (slot != null) slots.add(slot);
            h = block.forward(h, ctx, slot);
        }
        y = h;
    }

    /** Placeholders for inputs {@code xv [B, T, hidden]} at absolute positions {@code past ..}, plus the cache's past if any. */
    public Map<String, INDArray> feed(INDArray xv, int past, KvCache cache) {
        int t = (int) xv.size(1);
        Map<String, INDArray> f = new HashMap<>(rope.feed(tables, past, t));
        f.put("x", xv);
        f.put("mask", cache != null ? cache.causalMask(t, xv.dataType()) : AttentionMask.causal(t, past, xv.dataType()));
        if (cache != null) cache.feed(f);
        return f;
    }

    /** One prefill or decode call: runs, appends the new keys/values to the cache and returns y {@code [B, T, hidden]}. */
    public INDArray step(INDArray xv, KvCache cache) {
        Map<String, INDArray> f = feed(xv, cache.length(), cache);
        List<String> names = new ArrayList<>(List.of(cache.outputNames()));
        names.add(y.name());
        Map<String, INDArray> out = sd.output(f, names.toArray(new String[0]));
        cache.append(out);
        return out.get(y.name()).reshape(xv.size(0), xv.size(1), cfg.hidden());
    }
}
