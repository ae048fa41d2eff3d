package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/** The position-wise feed-forward slot of a block (SwiGLU, GELU MLP, ...): rows {@code [N, dim] → [N, dim]}. */
public interface FeedForward {
    SDVariable forwardRows(SDVariable x);
}
