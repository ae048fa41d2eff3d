package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * A normalisation over the last axis (RMSNorm, LayerNorm), the slot a pre-norm block fills.
 *
 * <p>The rank is passed explicitly because reductions must use a positive axis (M2.1 returns wrong values for a negative axis with
 * keepDims) and SameDiff does not know an intermediate's rank at build time.
 */
public interface Norm {

    /** Normalises {@code x} of the given rank over its last axis. */
    SDVariable forward(SDVariable x, int rank);

    /** Rows {@code [N, dim]}, the layout of {@code nn} blocks. */
    default SDVariable forwardRows(SDVariable x) { return forward(x, 2); }
}
