package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
 *   o       = softmax(q·kᵀ/√dh + mask) · v      [B, H, T, dh], over the cached past and the new k|v
 *                                              (S = Tpast + T; see {@link #attendCached}, which never copies the past)
 *   y       = out(o as rows)                   [B·T, hidden]
 * </pre>
 *
 * <p>Op count matters: SameDiff costs tens of µs per op per call, which dominates single-token decoding. So:
 * <ul>
 *   <li>a fused projection (one matmul to q | k | v rows) is rotated in one pass, with per-head tables that also apply the softmax scale
 *       to q and leave v alone ({@link RotaryEmbedding.Tables#applyFused}), then permuted once and split. {@link #separate} fuses the
 *       three weights into one frozen constant when none of them is trainable; trainable (or LoRA-wrapped) projections stay separate;</li>
 *   <li>grouped-query attention does not copy K/V: head h uses kv head h / groups (HF {@code repeat_kv}), so q {@code [B, H, T, dh]}
 *       is viewed as {@code [B, Hkv, groups·T, dh]} and multiplied against each kv head once (the mask is tiled to match, once per
 *       graph, by {@link AttentionContext});</li>
 *   <li>the scale multiplies q, not the scores (fewer elements; identical for power-of-two head widths).</li>
 * </ul>
 *
 * <p>HF's wav2vec2-conformer ({@code Wav2Vec2ConformerSelfAttention}, {@code position_embeddings_type="rotary"}, as MuQ uses it) puts the
 * rotation elsewhere: it rotates the block's normed <i>input</i>, viewed as {@code [B, T, H, dh]}, and projects q and k from that,
 * v from the unrotated input. {@link #rotaryOnInput} builds that variant; everything after the projections is shared.
 */
public final class Attention {

    /**
     * The projection part: rows {@code [B·T, hidden]} to either one fused array {@code [B·T, (H + 2·Hkv)·dh]} laid out q | k | v, or
     * three arrays q {@code [B·T, H·dh]}, k and v {@code [B·T, Hkv·dh]}.
     */
    public interface Projection {
        SDVariable[] project(SDVariable x);
    }

    private final AttentionDims dims;
    private final Projection qkv;
    private final Linear fusedQkv;   // the single q | k | v projection when there is one, else null
    private final Linear out;
    private final Linear[] onRotatedInput;   // q, k, v for rotary on the input; null otherwise

    private Attention(AttentionDims dims, Projection qkv, Linear fusedQkv, Linear out) {
        this(dims, qkv, fusedQkv, out, null);
    }

    private Attention(AttentionDims dims, Projection qkv, Linear fusedQkv, Linear out, Linear[] onRotatedInput) {
        this.dims = dims;
        this.qkv = qkv;
        this.fusedQkv = fusedQkv;
        this.out = out;
        this.onRotatedInput = onRotatedInput;
    }

    /**
     * Rotary applied to the input before the q/k projections, HF wav2vec2-conformer ({@code _apply_rotary_embedding} on
     * {@code hidden_states}, then {@code linear_q}, {@code linear_k}; {@code linear_v} on the unrotated input). The input is viewed as
     * {@code heads} chunks of {@code headDim}, so {@code hidden} must equal {@code heads · headDim}.
     */
    public static Attention rotaryOnInput(Scope s, AttentionDims d, boolean qkvBias, boolean outBias,
                                          String q, String k, String v, String o) {
        if (d.qDim() != d.hidden() || d.kvHeads() != d.heads()) {
            throw new IllegalArgumentException("rotary on the input needs hidden = heads·headDim and no GQA, got " + d);
        }
        Linear[] p = {Linear.load(s.pp(q), d.hidden(), d.qDim(), qkvBias), Linear.load(s.pp(k), d.hidden(), d.kvDim(), qkvBias),
                Linear.load(s.pp(v), d.hidden(), d.kvDim(), qkvBias)};
        return new Attention(d, null, null, Linear.load(s.pp(o), d.qDim(), d.hidden(), outBias), p);
    }

    /** HF Llama naming: {@code q_proj}, {@code k_proj}, {@code v_proj}, {@code o_proj}. */
    public static Attention separate(Scope s, AttentionDims d, boolean qkvBias, boolean outBias) {
        return separate(s, d, qkvBias, outBias, "q_proj", "k_proj", "v_proj", "o_proj");
    }

    /**
     * Separate q/k/v projections under the given names (relative to {@code s}). When the trainability policy freezes all of them and no
     * adapter targets any, the weights (and biases) are concatenated at load time into one constant named {@code <s>.<q>+<k>+<v>.weight}
     * (and {@code .bias}), the source keys still counting as consumed; otherwise each is its own layer under its checkpoint key, so
     * that a LoRA/DoRA adapter on {@code q_proj} wraps exactly the q projection, as PEFT does.
     */
    public static Attention separate(Scope s, AttentionDims d, boolean qkvBias, boolean outBias,
                                     String q, String k, String v, String o) {
        Linear lo = Linear.load(s.pp(o), d.qDim(), d.hidden(), outBias);
        String[] names = {q, k, v};
        boolean frozen = true;
        for (String n : names) {
            frozen &= !s.pp(n).trainable("weight") && !(qkvBias && s.pp(n).trainable("bias")) && !s.pp(n).adapted();
        }
        if (frozen) {
            long[] rows = {d.qDim(), d.kvDim(), d.kvDim()};
            INDArray[] w = new INDArray[3];
            INDArray[] b = new INDArray[3];
            for (int i = 0; i < 3; i++) {
                w[i] = s.pp(names[i]).array("weight", rows[i], d.hidden());
                if (qkvBias) b[i] = s.pp(names[i]).array("bias", rows[i]);
            }
            String fusedName = q + "+" + k + "+" + v;
            Scope f = s.pp(fusedName);
            Linear fused = Linear.of(f.derivedConstant("weight", Nd4j.concat(0, w)),
                    qkvBias ? f.derivedConstant("bias", Nd4j.concat(0, b)) : null, d.hidden(), d.qDim() + 2L * d.kvDim());
            for (int i = 0; i < 3; i++) {   // ours (Scope.array hands out fresh arrays): free them now, not whenever the GC runs
                w[i].close();
                if (b[i] != null) b[i].close();
            }
            return new Attention(d, x -> new SDVariable[] {fused.forwardRows(x)}, fused, lo);
        }
        Linear lq = Linear.load(s.pp(q), d.hidden(), d.qDim(), qkvBias);
        Linear lk = Linear.load(s.pp(k), d.hidden(), d.kvDim(), qkvBias);
        Linear lv = Linear.load(s.pp(v), d.hidden(), d.kvDim(), qkvBias);
        return new Attention(d, x -> new SDVariable[] {lq.forwardRows(x), lk.forwardRows(x), lv.forwardRows(x)}, null, lo);
    }

    /**
     * One fused projection {@code [qDim + 2·kvDim, hidden]} whose output is chunked into q, k, v along the last axis (DiT:
     * {@code to_qkv}, {@code to_out}).
     */
    public static Attention fused(Scope s, AttentionDims d, boolean qkvBias, boolean outBias, String qkvName, String outName) {
        Linear l = Linear.load(s.pp(qkvName), d.hidden(), d.qDim() + 2L * d.kvDim(), qkvBias);
        return new Attention(d, x -> new SDVariable[] {l.forwardRows(x)}, l, Linear.load(s.pp(outName), d.qDim(), d.hidden(), outBias));
    }

    /** Any other projection (LoRA-wrapped linears, for instance). */
    public static Attention of(AttentionDims d, Projection qkv, Linear out) { return new Attention(d, qkv, null, out); }

    /**
     * Self-attention over rows {@code x [B·T, hidden]}, returning rows {@code [B·T, hidden]}. With a cache slot, attends over the
     * slot's past keys/values plus the current ones, and names the current ones as the slot's outputs.
     */
    public SDVariable forward(SDVariable x, AttentionContext ctx, KvCache.Slot cache) {
        SDVariable[] heads;                                                                     // [B, H|Hkv, T, dh]
        if (onRotatedInput != null) {
            RotaryEmbedding.Tables rope = ctx.rope();
            SDVariable xr = rope == null ? x : rope.apply(x, dims.heads(), ctx.seq()).reshape(-1, dims.hidden());   // [B·T, hidden]
            SDVariable[] p = {onRotatedInput[0].forwardRows(xr), onRotatedInput[1].forwardRows(xr), onRotatedInput[2].forwardRows(x)};
            heads = splitSeparate(p, ctx.seq(), null);
        } else {
            SDVariable[] p = qkv.project(x);
            heads = p.length == 1 ? splitFused(p[0], ctx) : splitSeparate(p, ctx.seq(), ctx.rope());
        }
        SDVariable q = heads[0], k = heads[1], v = heads[2];
        SDVariable o;
        if (cache != null) {
            k.rename(cache.newKeyName());
            v.rename(cache.newValueName());
            o = attendCached(q, k, v, cache, ctx.maskFor(dims.groups()), dims, ctx.seq());      // [B, H, T, dh]
        } else {
            o = attend(q, k, v, ctx.maskFor(dims.groups()), dims, ctx.seq());                  // [B, H, T, dh]
        }
        o = o.permute(0, 2, 1, 3).reshape(-1, dims.qDim());                                   // [B·T, H·dh]
        return out.forwardRows(o);
    }

    /** q (scaled), k, v as heads {@code [B, H|Hkv, T, dh]} from one fused q | k | v array. */
    private SDVariable[] splitFused(SDVariable qkv, AttentionContext ctx) {
        SeqShape seq = ctx.seq();
        int h = dims.heads(), hkv = dims.kvHeads(), all = h + 2 * hkv;
        RotaryEmbedding.Tables rope = ctx.rope();
        SDVariable x4 = rope != null ? rope.applyFused(qkv, h, hkv, dims.scale(), seq)             // q scaled and rotated, k rotated
                : seq.reshape(qkv, all, dims.headDim());                                         // [B, T, H + 2·Hkv, dh]
        x4 = x4.permute(0, 2, 1, 3);                                                             // [B, H + 2·Hkv, T, dh]
        SDVariable[] qkvHeads;
        if (h == hkv) {
            qkvHeads = x4.getSameDiff().split(x4, 3, 1);
        } else {   // splitV has no gradient in M2.1: three slices
            qkvHeads = new SDVariable[] {
                x4.get(SDIndex.all(), SDIndex.interval(0, h), SDIndex.all(), SDIndex.all()),
                x4.get(SDIndex.all(), SDIndex.interval(h, h + hkv), SDIndex.all(), SDIndex.all()),
                x4.get(SDIndex.all(), SDIndex.interval(h + hkv, all), SDIndex.all(), SDIndex.all())};
        }
        if (rope == null) qkvHeads[0] = qkvHeads[0].mul(dims.scale());
        return qkvHeads;
    }

    /** q (scaled), k, v as heads {@code [B, H|Hkv, T, dh]} from three projections. */
    private SDVariable[] splitSeparate(SDVariable[] p, SeqShape seq, RotaryEmbedding.Tables rope) {
        int h = dims.heads(), hkv = dims.kvHeads(), dh = dims.headDim();
        SDVariable q = rope != null ? rope.apply(p[0], h, seq) : seq.reshape(p[0], h, dh);      // [B, T, H, dh]
        SDVariable k = rope != null ? rope.apply(p[1], hkv, seq) : seq.reshape(p[1], hkv, dh);  // [B, T, Hkv, dh]
        SDVariable v = seq.reshape(p[2], hkv, dh);                                              // [B, T, Hkv, dh]
        return new SDVariable[] {q.mul(dims.scale()).permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3)};
    }

    /**
     * The eager core: {@code softmax(q·kᵀ + mask, axis 3)·v} with q already scaled. q {@code [B, H, T, dh]}, k and v
     * {@code [B, Hkv, S, dh]}, mask broadcastable to {@code [B, Hkv, groups·T, S]} or null; returns {@code [B, H, T, dh]}.
     * It is {@link #apply}{@code (}{@link #weights}{@code )}: a layer whose attention weights are computed once and used by several
     * modules (Zipformer's shared {@code attn_weights}) calls the two halves itself.
     */
    public static SDVariable attend(SDVariable q, SDVariable k, SDVariable v, SDVariable mask, AttentionDims d, SeqShape seq) {
        return apply(weights(q, k, mask, d, seq), v, d, seq);
    }

    /**
     * The attention weights {@code softmax(q·kᵀ + mask, axis 3)}, {@code [B, Hkv, groups·T, S]} (query heads of a group stacked
     * along the query axis), q already scaled {@code [B, H, T, dh]}, k {@code [B, Hkv, S, dh]}.
     */
    public static SDVariable weights(SDVariable q, SDVariable k, SDVariable mask, AttentionDims d, SeqShape seq) {
        SameDiff sd = q.getSameDiff();
        if (d.groups() > 1) q = seq.reshapeBatch(q, d.kvHeads(), -1, d.headDim());              // [B, Hkv, g·T, dh]
        SDVariable scores = sd.mmul(q, k, false, true, false);                                  // [B, Hkv, g·T, S]
        if (mask != null) scores = scores.add(mask);
        return sd.nn.softmax(scores, 3);
    }

    /**
     * Attention weights from {@link #weights} applied to values {@code v [B, Hkv, S, dv]}: {@code [B, H, T, dv]} (without grouped
     * query heads, dv may differ from the query head size).
     */
    public static SDVariable apply(SDVariable weights, SDVariable v, AttentionDims d, SeqShape seq) {
        SDVariable o = weights.getSameDiff().mmul(weights, v);                                  // [B, Hkv, g·T, dv]
        return d.groups() > 1 ? seq.reshapeBatch(o, d.heads(), -1, d.headDim()) : o;            // [B, H, T, dv]
    }

    /**
     * {@link #attend} over the cached past and the new keys without concatenating them (see {@link KvCache}): q {@code [B, H, T, dh]}
     * (scaled), new k and v {@code [B, Hkv, T, dh]}, the slot's past {@code [B, Hkv, P, dh]}, mask {@code [g·T, P + T]} (or
     * broadcastable to the scores); returns {@code [B, H, T, dh]}.
     * <pre>
     *   s = concat(q·Kpastᵀ, q·kᵀ) + mask          [B, Hkv, g·T, P + T]
     *   p = softmax(s)
     *   o = p[..., :P]·Vpast + p[..., P:]·v
     * </pre>
     */
    public static SDVariable attendCached(SDVariable q, SDVariable k, SDVariable v, KvCache.Slot past, SDVariable mask, AttentionDims d,
                                          SeqShape seq) {
        SameDiff sd = q.getSameDiff();
        int g = d.groups();
        if (g > 1) q = seq.reshapeBatch(q, d.kvHeads(), -1, d.headDim());                        // [B, Hkv, g·T, dh]
        SDVariable scores = sd.concat(3, sd.mmul(q, past.pastKey(), false, true, false),       // [B, Hkv, g·T, P]
                sd.mmul(q, k, false, true, false));                                             // [B, Hkv, g·T, P + T]
        if (mask != null) scores = scores.add(mask);
        SDVariable probs = sd.nn.softmax(scores, 3);
        SDVariable pPast = sd.slice(probs, zeros4(sd), past.pastProbsSize());                   // [B, Hkv, g·T, P]
        SDVariable pNew = sd.slice(probs, past.newProbsBegin(), minusOnes4(sd));                // [B, Hkv, g·T, T]
        SDVariable o = sd.mmul(pPast, past.pastValue()).add(sd.mmul(pNew, v));                  // [B, Hkv, g·T, dh]
        return g > 1 ? seq.reshapeBatch(o, d.heads(), -1, d.headDim()) : o;                     // [B, H, T, dh]
    }

    private static SDVariable zeros4(SameDiff sd) { return sharedConstant(sd, "kv_cache.zeros4", 0); }

    private static SDVariable minusOnes4(SameDiff sd) { return sharedConstant(sd, "kv_cache.minus_ones4", -1); }

    private static SDVariable sharedConstant(SameDiff sd, String name, long value) {
        return sd.hasVariable(name) ? sd.getVariable(name) : sd.constant(name, Nd4j.createFromArray(value, value, value, value));
    }

    public AttentionDims dims() { return dims; }

    /**
     * The one projection to q | k | v rows {@code [qDim + 2·kvDim, hidden]} when this attention has one ({@link #fused}, or
     * {@link #separate} with frozen weights), else null: what an eager kernel over the same weights needs.
     */
    public Linear fusedProjection() { return fusedQkv; }

    public Linear out() { return out; }
}
