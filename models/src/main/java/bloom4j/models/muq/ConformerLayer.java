package bloom4j.models.muq;

import bloom4j.nn.Activation;
import bloom4j.nn.Attention;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.AttentionDims;
import bloom4j.nn.BatchNorm;
import bloom4j.nn.DepthwiseConv1d;
import bloom4j.nn.Glu;
import bloom4j.nn.LayerNorm;
import bloom4j.nn.Linear;
import bloom4j.nn.Mlp;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * One conformer layer as HF transformers builds it for MuQ ({@code Wav2Vec2ConformerEncoderLayer}, v4.40.2
 * {@code modeling_wav2vec2_conformer.py}), eval mode. Rows {@code [T, d]}:
 * <pre>
 *   h = h + 0.5 · ffn1(ffn1_layer_norm(h))                Linear d→4d, SiLU, Linear 4d→d (biases)
 *   h = h + self_attn(self_attn_layer_norm(h), rope)       rotary on the normed input, before linear_q/linear_k; v unrotated
 *   h = h + conv_module(h)                                  LN → pointwise d→2d → GLU → depthwise k → BatchNorm → SiLU → pointwise d→d
 *   h = h + 0.5 · ffn2(ffn2_layer_norm(h))
 *   h = final_layer_norm(h)
 * </pre>
 * The conv module's pointwise convolutions are linears on rows (weights {@code [out, in, 1]} viewed as {@code [out, in]}, no bias).
 */
final class ConformerLayer {
    private final LayerNorm ffn1Norm, attnNorm, convNorm, ffn2Norm, finalNorm;
    private final Mlp ffn1, ffn2;
    private final Attention attention;
    private final Linear pointwise1, pointwise2;
    private final DepthwiseConv1d depthwise;
    private final BatchNorm batchNorm;
    private final int dim;

    /** What one forward produced besides its output, for parity checks: the four residual branches before their residuals. */
    record Taps(SDVariable ffn1, SDVariable selfAttn, SDVariable convModule, SDVariable ffn2, SDVariable out) {}

    private ConformerLayer(Scope s, MuqConfig c) {
        int d = c.encoderDim();
        double eps = c.layerNormEps();
        dim = d;
        ffn1Norm = LayerNorm.load(s.pp("ffn1_layer_norm"), d, eps);
        ffn1 = Mlp.load(s.pp("ffn1"), d, c.intermediateSize(), true, Activation.SILU, "intermediate_dense", "output_dense");
        attnNorm = LayerNorm.load(s.pp("self_attn_layer_norm"), d, eps);
        attention = Attention.rotaryOnInput(s.pp("self_attn"), AttentionDims.mha(d, c.heads()), true, true,
                "linear_q", "linear_k", "linear_v", "linear_out");
        Scope cm = s.pp("conv_module");
        convNorm = LayerNorm.load(cm.pp("layer_norm"), d, eps);
        pointwise1 = Linear.of(cm.pp("pointwise_conv1").param("weight", 2L * d, d, 1).reshape(2L * d, d), null, d, 2L * d);
        depthwise = DepthwiseConv1d.load(cm.pp("depthwise_conv"), d, c.depthwiseKernel(), false);
        batchNorm = BatchNorm.load(cm.pp("batch_norm"), d, 1e-5);
        pointwise2 = Linear.of(cm.pp("pointwise_conv2").param("weight", d, d, 1).reshape(d, d), null, d, d);
        ffn2Norm = LayerNorm.load(s.pp("ffn2_layer_norm"), d, eps);
        ffn2 = Mlp.load(s.pp("ffn2"), d, c.intermediateSize(), true, Activation.SILU, "intermediate_dense", "output_dense");
        finalNorm = LayerNorm.load(s.pp("final_layer_norm"), d, eps);
    }

    static ConformerLayer load(Scope s, MuqConfig c) { return new ConformerLayer(s, c); }

    Taps forward(SDVariable h, AttentionContext ctx) {
        SDVariable f1 = ffn1.forwardRows(ffn1Norm.forwardRows(h));
        h = h.add(f1.mul(0.5));
        SDVariable at = attention.forward(attnNorm.forwardRows(h), ctx, null);
        h = h.add(at);
        SDVariable cv = convModule(h, ctx);
        h = h.add(cv);
        SDVariable f2 = ffn2.forwardRows(ffn2Norm.forwardRows(h));
        h = h.add(f2.mul(0.5));
        return new Taps(f1, at, cv, f2, finalNorm.forwardRows(h));
    }

    private SDVariable convModule(SDVariable h, AttentionContext ctx) {
        var sd = h.getSameDiff();
        SDVariable y = Glu.forwardRows(pointwise1.forwardRows(convNorm.forwardRows(h)), dim);   // [T, d]
        y = batchNorm.forwardRows(depthwise.forwardRows(y, ctx.seq()));
        return pointwise2.forwardRows(sd.nn.swish(y));
    }
}
