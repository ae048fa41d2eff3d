package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

import java.util.HashMap;
import java.util.Map;

/**
 * What every attention layer of one graph shares: the batch/sequence shape, the rotary tables (or none) and the additive mask (or
 * none, for bidirectional attention without padding).
 *
 * <p>The mask is {@code [T, S]} (or {@code [B, 1, T, S]}), S = past + T. Grouped-query attention folds the query heads of a group
 * into the rows of the score matrix ({@code [B, Hkv, groups·T, S]}), so the mask is tiled to {@code groups·T} rows once per graph
 * here, not once per layer.
 */
public final class AttentionContext {
    private final SeqShape seq;
    private final RotaryEmbedding.Tables rope;
    private final SDVariable mask;
    private final Map<Integer, SDVariable> tiled = new HashMap<>();

    private AttentionContext(SeqShape seq, RotaryEmbedding.Tables rope, SDVariable mask) {
        this.seq = seq;
        this.rope = rope;
        this.mask = mask;
    }

    /** {@code rope} and {@code mask} may be null. */
    public static AttentionContext of(SeqShape seq, RotaryEmbedding.Tables rope, SDVariable mask) {
        return new AttentionContext(seq, rope, mask);
    }

    public SeqShape seq() { return seq; }

    /** The rotary tables, or null for no positional rotation. */
    public RotaryEmbedding.Tables rope() { return rope; }

    /** The additive mask as given, or null. */
    public SDVariable mask() { return mask; }

    /** The mask tiled for {@code groups} query heads per key/value head: {@code [groups·T, S]} (or {@code [B, 1, groups·T, S]}). */
    SDVariable maskFor(int groups) {
        if (mask == null || groups == 1) return mask;
        return tiled.computeIfAbsent(groups, g -> {
            long[] shape = mask.getShape();
            int rank = shape == null ? 2 : shape.length;
            if (rank == 2) return mask.getSameDiff().tile(mask, g, 1);
            if (rank == 4) return mask.getSameDiff().tile(mask, 1, 1, g, 1);
            throw new IllegalArgumentException("attention mask must be [T, S] or [B, 1, T, S], got rank " + rank);
        });
    }
}
