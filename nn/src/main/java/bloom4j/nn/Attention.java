package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Multi-head self-attention with grouped-query support, eager softmax attention, optional rotary embedding and KV cache.
 *
 * <p>Reference: HF transformers 4.44.1 {@code LlamaAttention} with {@code eager_attention_forward} semantics (separate
 * {@code q_proj/k_proj/v_proj/o_proj}, {@code repeat_kv} grouping), and SongBloom's DiT {@code Attention}
 * ({@code SongBloom/models/transformer.py} L428-490, L583-611: fused {@code to_qkv} chunked in three, {@code to_out}, partial rotary,
 * bidirectional). The two differ only in the {@link Projection}; the core is shared.
 * <pre>
 *   q, k, v = proj(x)                          rows [B·T, H·dh], [B·T, Hkv·dh], [B·T, Hkv·dh]
 *   q, k    = rope(q), rope(k)                 [B, T, H|Hkv, dh]
 *   k, v    = concat(past, k|v) if cached      [B, Hkv, S, dh], S = Tpast + T
 *   o       = softmax(q·kᵀ/√dh + mask) · v      [B, H, T, dh]
 *   y       = out(o as rows)                   [B·T, hidden]
 * </pre>
 *
 * <p>Grouped-query attention without copying K/V: head h uses kv head h / groups (HF {@code repeat_kv}), so q {@code [B, H, T, dh]}
 * is viewed as {@code [B, Hkv, groups·T, dh]} and multiplied against each kv head once. The scale is applied to q rather than to the
 * scores (fewer elements; identical for power-of-two head widths).
 */
public final class Attention {

    /** The projection part: rows {@code [B·T, hidden]} to q {@code [B·T, H·dh]}, k and v {@code [B·T, Hkv·dh]}. */
    public interface Projection {
        SDVariable[] project(SDVariable x);
    }

    private final AttentionDims dims;
    private final Projection qkv;
    private final Linear out;

    private Attention(AttentionDims dims, Projection qkv, Linear out) {
        this.dims = dims;
        this.qkv = qkv;
        this.out = out;
    }

    /** HF Llama naming: {@code q_proj}, {@code k_proj}, {@code v_proj}, {@code o_proj}. */
    public static Attention separate(Scope s, AttentionDims d, boolean qkvBias, boolean outBias) {
        return separate(s, d, qkvBias, outBias, "q_proj", "k_proj", "v_proj", "o_proj");
    }

    /** Separate q/k/v projections under the given names (relative to {@code s}). */
    public static Attention separate(Scope s, AttentionDims d, boolean qkvBias, boolean outBias,
                                     String q, String k, String v, String o) {
        Linear lq = Linear.load(s.pp(q), d.hidden(), d.qDim(), qkvBias);
        Linear lk = Linear.load(s.pp(k), d.hidden(), d.kvDim(), qkvBias);
        Linear lv = Linear.load(s.pp(v), d.hidden(), d.kvDim(), qkvBias);
        Projection p = x -> new SDVariable[] {lq.forwardRows(x), lk.forwardRows(x), lv.forwardRows(x)};
        return new Attention(d, p, Linear.load(s.pp(o), d.qDim(), d.hidden(), outBias));
    }

    /**
     * One fused projection {@code [qDim + 2·kvDim, hidden]} whose output is chunked into q, k, v along the last axis (DiT:
     * {@code to_qkv}, {@code to_out}).
     */
    public static Attention fused(Scope s, AttentionDims d, boolean qkvBias, boolean outBias, String qkvName, String outName) {
        Linear l = Linear.load(s.pp(qkvName), d.hidden(), d.qDim() + 2L * d.kvDim(), qkvBias);
        Projection p = x -> {
            SDVariable y = l.forwardRows(x);                                              // [N, qDim + 2·kvDim]
            if (d.kvHeads() == d.heads()) return x.getSameDiff().split(y, 3, 1);          // three equal chunks
            int a = d.qDim(), b = a + d.kvDim(), c = b + d.kvDim();                       // splitV has no gradient in M2.1
            return new SDVariable[] {y.get(SDIndex.all(), SDIndex.interval(0, a)), y.get(SDIndex.all(), SDIndex.interval(a, b)),
                    y.get(SDIndex.all(), SDIndex.interval(b, c))};
        };
        return new Attention(d, p, Linear.load(s.pp(outName), d.qDim(), d.hidden(), outBias));
    }

    /** Any other projection (LoRA-wrapped linears, for instance). */
    public static Attention of(AttentionDims d, Projection qkv, Linear out) { return new Attention(d, qkv, out); }

    /**
     * Self-attention over rows {@code x [B·T, hidden]}, returning rows {@code [B·T, hidden]}. With a cache slot, attends over the
     * slot's past keys/values plus the current ones, and names the current ones as the slot's outputs.
     */
    public SDVariable forward(SDVariable x, AttentionContext ctx, KvCache.Slot cache) {
        SeqShape seq = ctx.seq();
        int h = dims.heads(), hkv = dims.kvHeads(), dh = dims.headDim();
        SDVariable[] p = qkv.project(x);
        RotaryEmbedding.Tables rope = ctx.rope();
        SDVariable q = rope != null ? rope.apply(p[0], h, seq) : seq.reshape(p[0], h, dh);      // [B, T, H, dh]
        SDVariable k = rope != null ? rope.apply(p[1], hkv, seq) : seq.reshape(p[1], hkv, dh);  // [B, T, Hkv, dh]
        SDVariable v = seq.reshape(p[2], hkv, dh);                                              // [B, T, Hkv, dh]
        q = q.mul(dims.scale()).permute(0, 2, 1, 3);                                            // [B, H, T, dh]
        k = k.permute(0, 2, 1, 3);                                                              // [B, Hkv, T, dh]
        v = v.permute(0, 2, 1, 3);
        if (cache != null) {
            SameDiff sd = x.getSameDiff();
            k.rename(cache.newKeyName());
            v.rename(cache.newValueName());
            k = sd.concat(2, cache.pastKey(), k);                                               // [B, Hkv, S, dh]
            v = sd.concat(2, cache.pastValue(), v);
        }
        SDVariable o = attend(q, k, v, ctx.maskFor(dims.groups()), dims, seq);                 // [B, H, T, dh]
        o = o.permute(0, 2, 1, 3).reshape(-1, dims.qDim());                                   // [B·T, H·dh]
        return out.forwardRows(o);
    }

    /**
     * The eager core: {@code softmax(q·kᵀ + mask, axis 3)·v} with q already scaled. q {@code [B, H, T, dh]}, k and v
     * {@code [B, Hkv, S, dh]}, mask broadcastable to {@code [B, Hkv, groups·T, S]} or null; returns {@code [B, H, T, dh]}.
     */
    public static SDVariable attend(SDVariable q, SDVariable k, SDVariable v, SDVariable mask, AttentionDims d, SeqShape seq) {
        SameDiff sd = q.getSameDiff();
        int g = d.groups();
        if (g > 1) q = seq.reshapeBatch(q, d.kvHeads(), -1, d.headDim());                        // [B, Hkv, g·T, dh]
        SDVariable scores = sd.mmul(q, k, false, true, false);                                  // [B, Hkv, g·T, S]
        if (mask != null) scores = scores.add(mask);
        SDVariable probs = sd.nn.softmax(scores, 3);
        SDVariable o = sd.mmul(probs, v);                                                       // [B, Hkv, g·T, dh]
        return g > 1 ? seq.reshapeBatch(o, d.heads(), -1, d.headDim()) : o;                     // [B, H, T, dh]
    }

    public AttentionDims dims() { return dims; }

    public Linear out() { return out; }
}
