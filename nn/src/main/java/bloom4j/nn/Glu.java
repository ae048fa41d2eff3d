package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Gated linear unit over the feature axis of rows, PyTorch {@code nn.GLU(dim=1)} on {@code [B, 2C, T]} (as in conformer convolution
 * modules): {@code a ⊙ σ(b)} with {@code a} the first and {@code b} the second half of the features. Rows {@code [N, 2C] → [N, C]}.
 */
public final class Glu {
    private Glu() {}

    public static SDVariable forwardRows(SDVariable x, long channels) {
        SDVariable a = x.get(SDIndex.all(), SDIndex.interval(0L, channels));               // [N, C]
        SDVariable b = x.get(SDIndex.all(), SDIndex.interval(channels, 2 * channels));    // [N, C]
        return a.mul(x.getSameDiff().nn.sigmoid(b));
    }
}
