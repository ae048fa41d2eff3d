package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * 2-D convolution, PyTorch {@code nn.Conv2d(in, out, (kH, kW), stride, padding)} (cross-correlation, zero padding, no dilation or
 * groups) on NCHW input.
 *
 * <ul>
 *   <li>weight {@code [out, in, kH, kW]} (PyTorch layout), bias {@code [out]} optional;</li>
 *   <li>input {@code [B, in, H, W]}, output {@code [B, out, ⌊(H + 2pH − kH)/sH⌋ + 1, ⌊(W + 2pW − kW)/sW⌋ + 1]}.</li>
 * </ul>
 * The kernel is permuted to M2.1's default {@code [kH, kW, in, out]} in the graph (the layout whose gradient the field guide verified),
 * so the parameter keeps PyTorch's layout and name.
 */
public final class Conv2d {
    private final SDVariable weight;   // [out, in, kH, kW]
    private final SDVariable bias;     // [out] or null
    private final Conv2DConfig config;

    private Conv2d(SDVariable weight, SDVariable bias, Conv2DConfig config) {
        this.weight = weight;
        this.bias = bias;
        this.config = config;
    }

    /** Square kernel {@code k}, stride {@code (sH, sW)}, symmetric padding {@code (pH, pW)}. */
    public static Conv2d load(Scope s, long in, long out, int k, int sH, int sW, int pH, int pW, boolean bias) {
        Conv2DConfig cfg = Conv2DConfig.builder().kH(k).kW(k).sH(sH).sW(sW).pH(pH).pW(pW).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat("NCHW").weightsFormat(WeightsFormat.YXIO).build();
        return new Conv2d(s.param("weight", out, in, k, k), bias ? s.param("bias", out) : null, cfg);
    }

    /** {@code [B, in, H, W] → [B, out, H', W']}. */
    public SDVariable forward(SDVariable x) {
        var sd = x.getSameDiff();
        SDVariable w = weight.permute(2, 3, 1, 0);                                           // [kH, kW, in, out]
        return bias == null ? sd.cnn.conv2d(x, w, config) : sd.cnn.conv2d(x, w, bias, config);
    }

    /** Output size along one spatial axis. */
    public static long outSize(long in, int k, int stride, int pad) { return (in + 2L * pad - k) / stride + 1; }
}
