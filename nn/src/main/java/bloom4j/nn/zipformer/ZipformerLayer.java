package bloom4j.nn.zipformer;

import bloom4j.nn.Activation;
import bloom4j.nn.Mlp;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * One {@code Zipformer2EncoderLayer} at inference (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L489-642):
 * <pre>
 *   W = self_attn_weights(x)                  computed before the time embedding is added, shared below
 *   x += e;  x += ff1(x);  x += nonlin_attention(x, W₀);  x += self_attn1(x, W)
 *   x += e;  x += conv_module1(x);  x += ff2(x);  x = bypass_mid(orig, x)
 *   x += self_attn2(x, W);  x += e;  x += conv_module2(x);  x += ff3(x)
 *   x = bypass(orig, norm(x))
 * </pre>
 * {@code e} is the stack's time embedding {@code [B, D]} (absent in the text encoder). Feed-forward modules are
 * {@code in_proj → SwooshL → out_proj}. Balancers and Whiten are identities in the forward pass and are not built; layer skipping
 * and dropouts are training-only.
 */
public final class ZipformerLayer {
    private final ZipformerDims dims;
    private final RelPositionAttentionWeights weights;
    private final WeightedValues attn1;
    private final WeightedValues attn2;
    private final NonlinAttention nonlin;
    private final Mlp ff1;
    private final Mlp ff2;
    private final Mlp ff3;
    private final ConvolutionModule conv1;
    private final ConvolutionModule conv2;
    private final Bypass bypassMid;
    private final Bypass bypass;
    private final BiasNorm norm;

    private ZipformerLayer(Scope s, ZipformerDims d) {
        this.dims = d;
        long dim = d.dim();
        weights = RelPositionAttentionWeights.load(s.pp("self_attn_weights"), dim, d.posDim(), d.heads(), d.queryHeadDim(), d.posHeadDim());
        attn1 = WeightedValues.load(s.pp("self_attn1"), dim, d.heads(), d.valueHeadDim());
        attn2 = WeightedValues.load(s.pp("self_attn2"), dim, d.heads(), d.valueHeadDim());
        nonlin = NonlinAttention.load(s.pp("nonlin_attention"), dim, d.nonlinHidden());
        ff1 = feedForward(s.pp("feed_forward1"), dim, d.feedforward(1));
        ff2 = feedForward(s.pp("feed_forward2"), dim, d.feedforward(2));
        ff3 = feedForward(s.pp("feed_forward3"), dim, d.feedforward(3));
        conv1 = ConvolutionModule.load(s.pp("conv_module1"), dim, d.kernel());
        conv2 = ConvolutionModule.load(s.pp("conv_module2"), dim, d.kernel());
        bypassMid = Bypass.load(s.pp("bypass_mid"), dim);
        bypass = Bypass.load(s.pp("bypass"), dim);
        norm = BiasNorm.load(s.pp("norm"), dim);
    }

    public static ZipformerLayer load(Scope s, ZipformerDims dims) { return new ZipformerLayer(s, dims); }

    private static Mlp feedForward(Scope s, long dim, long hidden) {
        return Mlp.load(s, dim, hidden, dim, Activation.SWOOSH_L, "in_proj", true, "out_proj", true);
    }

    /** Rows {@code [B·L, D]}; {@code pe [2L − 1, posDim]}; {@code timeEmb [B, D]} or null. */
    public SDVariable forwardRows(SDVariable x, SDVariable pe, SDVariable timeEmb, ZipformerSeq seq) {
        long d = dims.dim();
        SDVariable orig = x;
        SDVariable w = weights.forward(x, pe, seq);
        if (timeEmb != null) x = seq.addPerSequence(x, timeEmb, d);
        x = x.add(ff1.forwardRows(x));
        x = x.add(nonlin.forwardRows(x, w, seq));
        x = x.add(attn1.forwardRows(x, w, seq));
        if (timeEmb != null) x = seq.addPerSequence(x, timeEmb, d);
        x = x.add(conv1.forwardRows(x, seq));
        x = x.add(ff2.forwardRows(x));
        x = bypassMid.forwardRows(orig, x);
        x = x.add(attn2.forwardRows(x, w, seq));
        if (timeEmb != null) x = seq.addPerSequence(x, timeEmb, d);
        x = x.add(conv2.forwardRows(x, seq));
        x = x.add(ff3.forwardRows(x));
        return bypass.forwardRows(orig, norm.forwardRows(x));
    }

    public ZipformerDims dims() { return dims; }
}
