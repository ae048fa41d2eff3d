package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv1DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * PyTorch {@code nn.Conv1d} with zero padding, stride and dilation, on channels-first activations:
 * input {@code [B, C_in, T]}, output {@code [B, C_out, T']}, {@code T' = floor((T + 2·padding − dilation·(k − 1) − 1) / stride) + 1}.
 *
 * <ul>
 *   <li>weight {@code [C_out, C_in, k]} (key {@code weight}, or {@code weight_g}/{@code weight_v} for a weight-normed
 *       convolution, see {@link WeightNorm}), bias {@code [C_out]} optional;</li>
 *   <li>ND4J's {@code conv1d} wants {@code [k, C_in, C_out]}: a frozen weight is permuted once at load (constant
 *       {@code <key>[k,in,out]}); a trainable one stays in PyTorch's layout, so gradients and adapters see PyTorch's shapes, and is
 *       permuted in the graph.</li>
 * </ul>
 */
public final class Conv1d {
    private final SDVariable weight;   // [C_out, C_in, k], or null when frozen into kernelWeight
    private final SDVariable kernelWeight;   // [k, C_in, C_out] for frozen weights (permuted once at load), or null
    private final SDVariable bias;     // [C_out] or null
    private final Conv1DConfig config;
    private final long in;
    private final long out;

    private Conv1d(SDVariable weight, SDVariable kernelWeight, SDVariable bias, long in, long out, int kernel, int stride, int padding,
                   int dilation) {
        if (kernel < 1 || stride < 1 || padding < 0 || dilation < 1) {
            throw new IllegalArgumentException("conv1d needs kernel, stride, dilation >= 1 and padding >= 0, got k=" + kernel + " s="
                    + stride + " p=" + padding + " d=" + dilation);
        }
        this.weight = weight;
        this.kernelWeight = kernelWeight;
        this.bias = bias;
        this.in = in;
        this.out = out;
        // VALID with an explicit symmetric padding p is PyTorch's zero padding (checked against loops in Conv1dTest).
        this.config = Conv1DConfig.builder().k(kernel).s(stride).p(padding).d(dilation).paddingMode(PaddingMode.VALID)
                .dataFormat(Conv1DConfig.NCW).build();
    }

    /** {@code weight} (or {@code weight_g}/{@code weight_v}) and, if {@code bias}, {@code bias} from {@code s}. */
    public static Conv1d load(Scope s, long in, long out, int kernel, int stride, int padding, int dilation, boolean bias) {
        SDVariable b = bias ? s.param("bias", out) : null;
        INDArray frozen = WeightNorm.frozen(s, out, in, kernel);
        if (frozen != null) {
            // Permuting in the graph copied every conv weight on every call (1.6 s per call for SongBloom's decoder): do it once.
            SDVariable kw = s.derivedConstant((s.has("weight_g") ? "weight_g+weight_v" : "weight") + "[k,in,out]",
                    frozen.permute(2, 1, 0).dup('c'));
            return new Conv1d(null, kw, b, in, out, kernel, stride, padding, dilation);
        }
        return new Conv1d(WeightNorm.trainable(s, out, in, kernel), null, b, in, out, kernel, stride, padding, dilation);
    }

    /** Over parameters made elsewhere; {@code weight [C_out, C_in, k]}, {@code bias} may be null. */
    public static Conv1d of(SDVariable weight, SDVariable bias, long in, long out, int kernel, int stride, int padding, int dilation) {
        return new Conv1d(weight, null, bias, in, out, kernel, stride, padding, dilation);
    }

    /** {@code x [B, C_in, T] → [B, C_out, T']}. */
    public SDVariable forward(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable w = kernelWeight != null ? kernelWeight : weight.permute(2, 1, 0);     // [k, C_in, C_out]
        return bias == null ? sd.cnn.conv1d(x, w, config) : sd.cnn.conv1d(x, w, bias, config);
    }

    /** {@code [C_out, C_in, k]}; null for a frozen weight, which is held as {@link #kernelWeight}. */
    public SDVariable weight() { return weight; }

    /** A frozen weight in ND4J's layout {@code [k, C_in, C_out]}; null for a trainable one. */
    public SDVariable kernelWeight() { return kernelWeight; }

    public SDVariable bias() { return bias; }

    public long in() { return in; }

    public long out() { return out; }
}
