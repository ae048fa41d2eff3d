package bloom4j.nn;

/**
 * Sizes of a multi-head self-attention: model width, query heads, key/value heads (grouped-query when fewer) and head width.
 * Derived sizes are methods so the arithmetic lives here once.
 */
public record AttentionDims(int hidden, int heads, int kvHeads, int headDim) {

    public AttentionDims {
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("attention sizes must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kv heads (" + kvHeads + ")");
        }
    }

    /** Multi-head attention with head width {@code hidden / heads} (Llama's and the DiT's default). */
    public static AttentionDims mha(int hidden, int heads) {
        if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
        return new AttentionDims(hidden, heads, heads, hidden / heads);
    }

    /** Query heads per key/value head (HF {@code num_key_value_groups}). */
    public int groups() { return heads / kvHeads; }

    /** Width of the query projection, {@code heads · headDim}. */
    public int qDim() { return heads * headDim; }

    /** Width of each of the key and value projections, {@code kvHeads · headDim}. */
    public int kvDim() { return kvHeads * headDim; }

    /** The softmax scale {@code 1 / sqrt(headDim)}. */
    public double scale() { return 1.0 / Math.sqrt(headDim); }
}
