package bloom4j.nn.zipformer;

import bloom4j.nn.SeqShape;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The sizes of one Zipformer stack's activations, fixed when the graph is built (the relative-position shift and the down-sampling
 * need L as a number), and its key-padding mask.
 *
 * <p>Activations are rows {@code [B·L, D]}, batch-major (upstream runs time-major {@code (L, B, D)}; the arithmetic is the same).
 * The mask is {@code [B, L]} in the graph's float type with 1 at padded frames, or null when nothing is padded.
 */
public record ZipformerSeq(SameDiff sd, long batch, long length, SDVariable padMask) {

    public ZipformerSeq {
        if (batch <= 0 || length <= 0) throw new IllegalArgumentException("Zipformer sizes must be positive, got B=" + batch + " L=" + length);
    }

    /** B·L. */
    public long rows() { return batch * length; }

    /** As {@link SeqShape} for layers that reshape through it (the depthwise convolution). */
    public SeqShape shape() { return SeqShape.fixed(sd, batch, length); }

    /** {@code [B·L, 1]}: 1 at valid frames, 0 at padded ones; null without a mask. */
    SDVariable keepRows() { return padMask == null ? null : padMask.rsub(1.0).reshape(rows(), 1); }

    /** {@code x [B·L, D]} plus {@code e [B, D]} at every frame of its sequence. */
    SDVariable addPerSequence(SDVariable x, SDVariable e, long dim) {
        return x.reshape(batch, length, dim).add(e.reshape(batch, 1, dim)).reshape(rows(), dim);
    }
}
