package bloom4j.nn.zipformer;

import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Zipformer's {@code RelPositionMultiheadAttentionWeights} at inference (k2-fsa/ZipVoice@2f7326f
 * {@code zipvoice/models/modules/zipformer.py} L1059-1306): the attention weights {@code [H, B, L, L]} that the layer's two
 * {@link WeightedValues} modules and its {@link NonlinAttention} share.
 *
 * <pre>
 *   q | k | p = in_proj(x)                         [N, H·dq | H·dq | H·dp], head-major channels
 *   scores    = q·kᵀ                               no 1/√dq: the scale lives in the weights
 *   pos       = p · linear_pos(pe)ᵀ                [H, B, L, 2L−1] over relative offsets (linear_pos has no bias)
 *   scores   += pos[h, b, i, (L−1) − i + j]        the column of offset j − i
 *   scores    = −1000 at padded keys; softmax over keys
 * </pre>
 * The relative-to-absolute shift is upstream's {@code as_strided} view, written as a slice and reshape of the flattened scores
 * (row {@code i} starts {@code L − 1 + i·(2L − 2)} elements in), ops whose gradients M2.1 computes correctly.
 */
public final class RelPositionAttentionWeights {
    private final Linear inProj;
    private final Linear linearPos;
    private final int heads;
    private final int queryHeadDim;
    private final int posHeadDim;

    private RelPositionAttentionWeights(Linear inProj, Linear linearPos, int heads, int queryHeadDim, int posHeadDim) {
        this.inProj = inProj;
        this.linearPos = linearPos;
        this.heads = heads;
        this.queryHeadDim = queryHeadDim;
        this.posHeadDim = posHeadDim;
    }

    /** {@code in_proj [(2·dq + dp)·H, dim]} with bias and {@code linear_pos [H·dp, posDim]} without. */
    public static RelPositionAttentionWeights load(Scope s, long dim, int posDim, int heads, int queryHeadDim, int posHeadDim) {
        return new RelPositionAttentionWeights(Linear.load(s.pp("in_proj"), dim, (long) (2 * queryHeadDim + posHeadDim) * heads, true),
                Linear.load(s.pp("linear_pos"), posDim, (long) heads * posHeadDim, false), heads, queryHeadDim, posHeadDim);
    }

    /** Rows {@code x [B·L, D]}, {@code pe [2L − 1, posDim]} → weights {@code [H, B, L, L]}. */
    public SDVariable forward(SDVariable x, SDVariable pe, ZipformerSeq seq) {
        SameDiff sd = x.getSameDiff();
        long b = seq.batch(), l = seq.length(), h = heads, qd = (long) heads * queryHeadDim, m = 2 * l - 1;
        SDVariable proj = inProj.forwardRows(x);                                                         // [N, 2qd + H·dp]
        SDVariable q = heads(proj.get(SDIndex.all(), SDIndex.interval(0L, qd)), b, l, queryHeadDim);      // [H·B, L, dq]
        SDVariable k = heads(proj.get(SDIndex.all(), SDIndex.interval(qd, 2 * qd)), b, l, queryHeadDim);
        SDVariable scores = sd.mmul(q, k, false, true, false);                                           // [H·B, L, L]

        SDVariable p = proj.get(SDIndex.all(), SDIndex.interval(2 * qd, 2 * qd + h * posHeadDim))
                .reshape(b * l, h, posHeadDim).permute(1, 0, 2);                                           // [H, B·L, dp]
        SDVariable pos = linearPos.forwardRows(pe).reshape(m, h, posHeadDim).permute(1, 2, 0);             // [H, dp, 2L−1]
        SDVariable full = sd.mmul(p, pos).reshape(h * b, l * m);                                          // [H·B, L·(2L−1)]
        SDVariable shifted;
        if (l == 1) {
            shifted = full.reshape(h * b, 1, 1);
        } else {
            SDVariable rows = sd.slice(full, sd.constant(Nd4j.createFromArray(0L, l - 1)),
                    sd.constant(Nd4j.createFromArray(h * b, l * (2 * l - 2)))).reshape(h * b, l, 2 * l - 2);
            shifted = sd.slice(rows, sd.constant(Nd4j.createFromArray(0L, 0L, 0L)), sd.constant(Nd4j.createFromArray(h * b, l, l)));
        }
        SDVariable s4 = scores.add(shifted).reshape(h, b, l, l);
        if (seq.padMask() != null) {
            SDVariable pad = seq.padMask().reshape(1, b, 1, l);
            s4 = s4.mul(pad.rsub(1.0)).sub(pad.mul(1000.0));                                              // masked_fill(pad, −1000)
        }
        return sd.nn.softmax(s4, 3);
    }

    /** Rows {@code [B·L, H·d]} (head-major channels) → {@code [H·B, L, d]}. */
    private SDVariable heads(SDVariable x, long b, long l, int d) {
        return x.reshape(b, l, heads, d).permute(2, 0, 1, 3).reshape((long) heads * b, l, d);
    }

    public int heads() { return heads; }
}
