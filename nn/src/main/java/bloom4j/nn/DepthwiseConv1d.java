package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.factory.Nd4j;

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
 * <p>Computed as {@code y[t] = Σ_j w[:, j] ⊙ x_pad[t + j]}: one zero pad of the time axis, then per tap a shifted view, a product
 * with that tap's per-channel weights and a sum. M2.1 has no depthwise conv1d, and its {@code depthwise_conv2d} (on {@code [B, 1, T,
 * C]}) took 360 ms for MuQ's 750 × 1024 × 31 where the taps take a few ms each: the 31 elementwise passes are memory-bound and cheap.
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
        SDVariable x3 = seq.reshapeBatch(x, -1, channels);                                   // [B, T, C]
        SDVariable xp = padding == 0 ? x3 : sd.nn.pad(x3,
                sd.constant(Nd4j.createFromArray(new int[][] {{0, 0}, {padding, padding}, {0, 0}})), 0.0);   // [B, T + 2p, C]
        SDVariable taps = weight.reshape(channels, kernel).permute(1, 0);                    // [k, C]
        SDVariable size = sd.shape(x3);                                                      // [B, T, C], once per call
        SDVariable y = null;
        for (int j = 0; j < kernel; j++) {
            // x_pad[:, j : j + T, :] (slice, whose gradient works in M2.1; strided_slice's with masks does not)
            SDVariable begin = sd.constant(Nd4j.createFromArray(0L, j, 0L));
            SDVariable shifted = sd.slice(xp, begin, size);                                   // [B, T, C]
            SDVariable term = shifted.mul(taps.get(SDIndex.interval(j, j + 1)));   // [1, C]: a point index has no gradient
            y = y == null ? term : y.add(term);
        }
        if (bias != null) y = y.add(bias);
        return y.reshape(-1, channels);                                                     // [B·T, C]
    }

    public long channels() { return channels; }

    public int kernel() { return kernel; }
}
