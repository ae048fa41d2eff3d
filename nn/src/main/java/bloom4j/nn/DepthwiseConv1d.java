package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * Depthwise 1-D convolution over time, PyTorch {@code nn.Conv1d(C, C, k, padding=p, groups=C)}: each channel convolved with its own
 * kernel (cross-correlation, zero padding), as in conformer convolution modules.
 *
 * <ul>
 *   <li>weight {@code [C, 1, k]} (PyTorch layout), bias {@code [C]} optional;</li>
 *   <li>input and output rows {@code [B·T, C]}, time inside each sequence of {@link SeqShape}; output length T (stride 1, same
 *       padding {@code p = (k − 1) / 2}).</li>
 * </ul>
 *
 * <p>M2.1 has no depthwise conv1d: this is {@code depthwise_conv2d} on NHWC {@code [B, 1, T, C]} with a {@code [1, k, C, 1]} kernel,
 * which needs no transpose of the activations (rows reshape to it for free); the kernel is permuted in the graph, so the parameter keeps
 * PyTorch's layout and name.
 */
public final class DepthwiseConv1d {
    private final SDVariable weight;   // [C, 1, k]
    private final SDVariable bias;     // [C] or null
    private final long channels;
    private final int kernel;
    private final int padding;

    private DepthwiseConv1d(SDVariable weight, SDVariable bias, long channels, int kernel, int padding) {
        this.weight = weight;
        this.bias = bias;
        this.channels = channels;
        this.kernel = kernel;
        this.padding = padding;
    }

    /** {@code weight [C, 1, k]} and, if {@code bias}, {@code bias [C]} from {@code s}; padding {@code (k − 1) / 2}, k odd. */
    public static DepthwiseConv1d load(Scope s, long channels, int kernel, boolean bias) {
        if (kernel < 1 || kernel % 2 == 0) throw new IllegalArgumentException("depthwise kernel must be odd (same padding), got " + kernel);
        return new DepthwiseConv1d(s.param("weight", channels, 1, kernel), bias ? s.param("bias", channels) : null, channels, kernel,
                (kernel - 1) / 2);
    }

    /** Rows {@code [B·T, C] → [B·T, C]}. */
    public SDVariable forwardRows(SDVariable x, SeqShape seq) {
        var sd = x.getSameDiff();
        SDVariable x4 = seq.reshapeBatch(x, 1, -1, channels);                                // [B, 1, T, C] (NHWC)
        SDVariable w = weight.permute(1, 2, 0).reshape(1, kernel, channels, 1);              // [1, k, C, 1]
        Conv2DConfig cfg = Conv2DConfig.builder().kH(1).kW(kernel).sH(1).sW(1).pH(0).pW(padding).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat("NHWC").weightsFormat(WeightsFormat.YXIO).build();
        SDVariable y = bias == null ? sd.cnn.depthWiseConv2d(x4, w, cfg) : sd.cnn.depthWiseConv2d(x4, w, bias, cfg);
        return y.reshape(-1, channels);                                                     // [B·T, C]
    }

    public long channels() { return channels; }

    public int kernel() { return kernel; }
}
