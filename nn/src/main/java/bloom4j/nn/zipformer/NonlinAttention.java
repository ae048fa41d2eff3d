package bloom4j.nn.zipformer;

import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Zipformer's {@code NonlinAttention} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L1442-1544), with the
 * first head's attention weights:
 * <pre>
 *   s | x | y = in_proj(x)          [N, 3·hc], chunked in this order
 *   x = W₀ · (x ⊙ tanh(s)) ⊙ y      W₀ [B, L, L]
 *   out_proj(x)                     [D, hc]
 * </pre>
 */
public final class NonlinAttention {
    private final Linear inProj;
    private final Linear outProj;
    private final long hidden;

    private NonlinAttention(Linear inProj, Linear outProj, long hidden) {
        this.inProj = inProj;
        this.outProj = outProj;
        this.hidden = hidden;
    }

    /** {@code hidden} = hc (3·D/4 in TTSZipformer). */
    public static NonlinAttention load(Scope s, long dim, long hidden) {
        return new NonlinAttention(Linear.load(s.pp("in_proj"), dim, 3 * hidden, true), Linear.load(s.pp("out_proj"), hidden, dim, true),
                hidden);
    }

    /** Rows {@code [B·L, D]}; {@code weights [H, B, L, L]} of which head 0 is used. */
    public SDVariable forwardRows(SDVariable x, SDVariable weights, ZipformerSeq seq) {
        var sd = x.getSameDiff();
        long b = seq.batch(), l = seq.length(), hc = hidden;
        SDVariable proj = inProj.forwardRows(x);
        SDVariable s = proj.get(SDIndex.all(), SDIndex.interval(0L, hc));
        SDVariable v = proj.get(SDIndex.all(), SDIndex.interval(hc, 2 * hc));
        SDVariable y = proj.get(SDIndex.all(), SDIndex.interval(2 * hc, 3 * hc));
        SDVariable gated = v.mul(sd.math.tanh(s)).reshape(b, l, hc);
        SDVariable w0 = weights.get(SDIndex.interval(0L, 1L), SDIndex.all(), SDIndex.all(), SDIndex.all()).reshape(b, l, l);
        SDVariable mixed = sd.mmul(w0, gated).reshape(b * l, hc);
        return outProj.forwardRows(mixed.mul(y));
    }
}
