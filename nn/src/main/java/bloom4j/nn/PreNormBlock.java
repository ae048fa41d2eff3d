package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The pre-norm residual transformer block, family-neutral:
 * <pre>
 *   h = x + attention(attnNorm(x))
 *   y = h + ff(ffNorm(h))
 * </pre>
 * HF 4.44.1 {@code LlamaDecoderLayer.forward} (norms {@code input_layernorm} / {@code post_attention_layernorm}, RMSNorm) and
 * SongBloom's DiT block without adaLN ({@code transformer.py} L766-776, norms {@code pre_norm} / {@code ff_norm}, LayerNorm) are both
 * this; a model builds the parts under its own key names and passes them in. Rows {@code [B·T, dim]} in and out.
 */
public final class PreNormBlock {
    private final Norm attnNorm;
    private final Attention attention;
    private final Norm ffNorm;
    private final FeedForward ff;

    public PreNormBlock(Norm attnNorm, Attention attention, Norm ffNorm, FeedForward ff) {
        this.attnNorm = attnNorm;
        this.attention = attention;
        this.ffNorm = ffNorm;
        this.ff = ff;
    }

    /** {@code cache} may be null (training, bidirectional models, full recompute). */
    public SDVariable forward(SDVariable x, AttentionContext ctx, KvCache.Slot cache) {
        SDVariable h = x.add(attention.forward(attnNorm.forwardRows(x), ctx, cache));   // [B·T, dim]
        return h.add(ff.forwardRows(ffNorm.forwardRows(h)));                              // [B·T, dim]
    }

    public Norm attnNorm() { return attnNorm; }

    public Attention attention() { return attention; }

    public Norm ffNorm() { return ffNorm; }

    public FeedForward ff() { return ff; }
}
