package bloom4j.nn.zipformer;

import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Zipformer's {@code SelfAttention} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L1325-1396): values
 * {@code in_proj [H·dv, D]} weighted by precomputed attention weights {@code [H, B, L, L]}, heads concatenated, {@code out_proj
 * [D, H·dv]}. Rows {@code [B·L, D]} in and out.
 */
public final class WeightedValues {
    private final Linear inProj;
    private final Linear outProj;
    private final int heads;
    private final int valueHeadDim;

    private WeightedValues(Linear inProj, Linear outProj, int heads, int valueHeadDim) {
        this.inProj = inProj;
        this.outProj = outProj;
        this.heads = heads;
        this.valueHeadDim = valueHeadDim;
    }

    public static WeightedValues load(Scope s, long dim, int heads, int valueHeadDim) {
        long hv = (long) heads * valueHeadDim;
        return new WeightedValues(Linear.load(s.pp("in_proj"), dim, hv, true), Linear.load(s.pp("out_proj"), hv, dim, true), heads,
                valueHeadDim);
    }

    public SDVariable forwardRows(SDVariable x, SDVariable weights, ZipformerSeq seq) {
        long b = seq.batch(), l = seq.length(), hv = (long) heads * valueHeadDim;
        SDVariable v = inProj.forwardRows(x).reshape(b, l, heads, valueHeadDim).permute(2, 0, 1, 3);      // [H, B, L, dv]
        SDVariable o = x.getSameDiff().mmul(weights, v).permute(1, 2, 0, 3).reshape(b * l, hv);           // [B·L, H·dv]
        return outProj.forwardRows(o);
    }
}
