package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Batch normalisation with its running statistics, PyTorch {@code BatchNorm1d/2d} in eval mode:
 * {@code y = (x − running_mean) · rsqrt(running_var + eps) · weight + bias}, per channel.
 *
 * <ul>
 *   <li>{@code weight}, {@code bias}, {@code running_mean}, {@code running_var} {@code [C]} (plus {@code num_batches_tracked}, an
 *       integer scalar with no role in eval, which {@link #load} marks as read so it is not reported unused);</li>
 *   <li>input of any rank with the channels on one axis: rows {@code [N, C]} ({@link #forwardRows}) or NCHW ({@code axis 1}).</li>
 * </ul>
 *
 * <p>Composed from element-wise ops: {@code sd.nn.batchNorm} has no backward in M2.1. The statistics take part
 * in the graph like any parameter, so whether they are frozen is the {@link LoadOptions} policy's call (they never get a useful
 * gradient in eval mode; freeze them when training).
 */
public final class BatchNorm {
    private final SDVariable weight;   // [C]
    private final SDVariable bias;     // [C]
    private final SDVariable mean;     // [C]
    private final SDVariable var;      // [C]
    private final long channels;
    private final double eps;

    private BatchNorm(SDVariable weight, SDVariable bias, SDVariable mean, SDVariable var, long channels, double eps) {
        this.weight = weight;
        this.bias = bias;
        this.mean = mean;
        this.var = var;
        this.channels = channels;
        this.eps = eps;
    }

    /** PyTorch's keys in {@code s}: weight, bias, running_mean, running_var (num_batches_tracked read if present). */
    public static BatchNorm load(Scope s, long channels, double eps) {
        s.markRead("num_batches_tracked");
        return new BatchNorm(s.param("weight", channels), s.param("bias", channels), s.param("running_mean", channels),
                s.param("running_var", channels), channels, eps);
    }

    /** Channels on {@code axis} of an input of {@code rank}. */
    public SDVariable forward(SDVariable x, int axis, int rank) {
        if (axis < 0 || axis >= rank) throw new IllegalArgumentException("channel axis " + axis + " outside rank " + rank);
        long[] shape = new long[rank];
        java.util.Arrays.fill(shape, 1);
        shape[axis] = channels;
        SDVariable scale = x.getSameDiff().math.rsqrt(var.add(eps)).mul(weight);   // [C]
        SDVariable y = x.sub(mean.reshape(shape)).mul(scale.reshape(shape));
        return y.add(bias.reshape(shape));
    }

    /** Rows {@code [N, C]}. */
    public SDVariable forwardRows(SDVariable x) {
        SDVariable scale = x.getSameDiff().math.rsqrt(var.add(eps)).mul(weight);
        return x.sub(mean).mul(scale).add(bias);
    }

    public double eps() { return eps; }

    public long channels() { return channels; }
}
