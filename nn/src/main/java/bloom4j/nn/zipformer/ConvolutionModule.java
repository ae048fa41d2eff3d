package bloom4j.nn.zipformer;

import bloom4j.nn.Activation;
import bloom4j.nn.DepthwiseConv1d;
import bloom4j.nn.Glu;
import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Zipformer's {@code ConvolutionModule} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L1547-1680):
 * {@code in_proj [2D, D]} → GLU (first half ⊙ σ(second half)) → padded frames zeroed → depthwise conv (k, same padding, bias) →
 * SwooshR → {@code out_proj [D, D]}. Rows {@code [B·L, D]} in and out.
 */
public final class ConvolutionModule {
    private final Linear inProj;
    private final DepthwiseConv1d depthwise;
    private final Linear outProj;
    private final long dim;

    private ConvolutionModule(Linear inProj, DepthwiseConv1d depthwise, Linear outProj, long dim) {
        this.inProj = inProj;
        this.depthwise = depthwise;
        this.outProj = outProj;
        this.dim = dim;
    }

    public static ConvolutionModule load(Scope s, long dim, int kernel) {
        return new ConvolutionModule(Linear.load(s.pp("in_proj"), dim, 2 * dim, true), DepthwiseConv1d.load(s.pp("depthwise_conv"), dim,
                kernel, true), Linear.load(s.pp("out_proj"), dim, dim, true), dim);
    }

    public SDVariable forwardRows(SDVariable x, ZipformerSeq seq) {
        SDVariable g = Glu.forwardRows(inProj.forwardRows(x), dim);
        SDVariable keep = seq.keepRows();
        if (keep != null) g = g.mul(keep);
        return outProj.forwardRows(Activation.SWOOSH_R.apply(depthwise.forwardRows(g, seq.shape())));
    }
}
