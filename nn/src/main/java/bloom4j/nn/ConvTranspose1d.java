package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;

/**
 * PyTorch {@code nn.ConvTranspose1d} (no output padding, dilation 1) on channels-first activations: input {@code [B, C_in, T]},
 * output {@code [B, C_out, (T − 1)·stride − 2·padding + k]}; the Oobleck decoder's upsampler with k = 2s, padding = ceil(s/2)
 * gives exactly {@code T·s} for even s.
 *
 * <ul>
 *   <li>weight {@code [C_in, C_out, k]} (PyTorch's transposed layout; key {@code weight}, or {@code weight_g}/{@code weight_v} with
 *       the norm taken per C_in, see {@link WeightNorm}), bias {@code [C_out]} optional;</li>
 *   <li>computed by ND4J's {@code deconv2d} over a height-1 image: weights {@code [1, k, C_out, C_in]}, input
 *       {@code [B, C_in, 1, T]}.</li>
 * </ul>
 */
public final class ConvTranspose1d {
    private final SDVariable weight;   // [C_in, C_out, k], or null when frozen into kernelWeight
    private final SDVariable kernelWeight;   // [1, k, C_out, C_in] for frozen weights (laid out once at load), or null
    private final SDVariable bias;     // [C_out] or null
    private final DeConv2DConfig config;
    private final long in;
    private final long out;

    private ConvTranspose1d(SDVariable weight, SDVariable kernelWeight, SDVariable bias, long in, long out, int kernel, int stride,
                            int padding) {
        if (kernel < 1 || stride < 1 || padding < 0) {
            throw new IllegalArgumentException("conv-transpose needs kernel, stride >= 1 and padding >= 0, got k=" + kernel + " s="
                    + stride + " p=" + padding);
        }
        this.weight = weight;
        this.kernelWeight = kernelWeight;
        this.bias = bias;
        this.in = in;
        this.out = out;
        this.config = DeConv2DConfig.builder().kH(1).kW(kernel).sH(1).sW(stride).pH(0).pW(padding).dH(1).dW(1).isSameMode(false)
                .dataFormat(DeConv2DConfig.NCHW).build();
    }

    public static ConvTranspose1d load(Scope s, long in, long out, int kernel, int stride, int padding, boolean bias) {
        SDVariable b = bias ? s.param("bias", out) : null;
        INDArray frozen = WeightNorm.frozen(s, in, out, kernel);
        if (frozen != null) {
            SDVariable kw = s.derivedConstant((s.has("weight_g") ? "weight_g+weight_v" : "weight") + "[1,k,out,in]",
                    frozen.permute(2, 1, 0).reshape('c', 1, kernel, out, in).dup('c'));
            return new ConvTranspose1d(null, kw, b, in, out, kernel, stride, padding);
        }
        return new ConvTranspose1d(WeightNorm.trainable(s, in, out, kernel), null, b, in, out, kernel, stride, padding);
    }

    public static ConvTranspose1d of(SDVariable weight, SDVariable bias, long in, long out, int kernel, int stride, int padding) {
        return new ConvTranspose1d(weight, null, bias, in, out, kernel, stride, padding);
    }

    /** {@code x [B, C_in, T] → [B, C_out, T']}. */
    public SDVariable forward(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable w = kernelWeight != null ? kernelWeight : sd.expandDims(weight.permute(2, 1, 0), 0);   // [1, k, C_out, C_in]
        SDVariable x4 = sd.expandDims(x, 2);                                      // [B, C_in, 1, T]
        SDVariable y = bias == null ? sd.cnn.deconv2d(x4, w, config) : sd.cnn.deconv2d(x4, w, bias, config);
        return sd.squeeze(y, 2);                                                  // [B, C_out, T']
    }

    /** {@code [C_in, C_out, k]}; null for a frozen weight, held as {@link #kernelWeight}. */
    public SDVariable weight() { return weight; }

    /** A frozen weight in deconv2d's layout {@code [1, k, C_out, C_in]}; null for a trainable one. */
    public SDVariable kernelWeight() { return kernelWeight; }

    public SDVariable bias() { return bias; }

    public long in() { return in; }

    public long out() { return out; }
}
