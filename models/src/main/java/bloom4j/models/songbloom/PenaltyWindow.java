package bloom4j.models.songbloom;

import java.util.Arrays;

/**
 * The repetition-penalty window of one block (upstream {@code penalty_token_pool}, {@code MVSA_DiTAR.generate} and
 * {@code _sample_next_block}). At the start of a block it holds the last {@code size} kept sketch tokens, left-padded with EOS when
 * fewer were kept; every token sampled in the block is then appended and the oldest dropped. The first block has no window
 * ({@link #none()}): upstream passes {@code None} while no token has been kept.
 */
public final class PenaltyWindow {
    private static final PenaltyWindow NONE = new PenaltyWindow(new int[0], false);

    private final int[] tokens;
    private final boolean active;

    private PenaltyWindow(int[] tokens, boolean active) {
        this.tokens = tokens;
        this.active = active;
    }

    /** No penalty (first block, or the penalty disabled). {@link #push} does nothing. */
    public static PenaltyWindow none() { return NONE; }

    /**
     * The window for a new block.
     *
     * @param keptTokens all sketch tokens kept so far, in order ({@code none()} is returned when empty)
     * @param size       window length ({@code penalty_window})
     * @param padId      left padding id (EOS)
     */
    public static PenaltyWindow forBlock(int[] keptTokens, int size, int padId) {
        if (size < 1) throw new IllegalArgumentException("penalty window size must be >= 1, got " + size);
        if (keptTokens.length == 0) return NONE;
        int[] w = new int[size];
        int take = Math.min(size, keptTokens.length);
        int pad = size - take;
        Arrays.fill(w, 0, pad, padId);
        System.arraycopy(keptTokens, keptTokens.length - take, w, pad, take);
        return new PenaltyWindow(w, true);
    }

    public boolean isActive() { return active; }

    /** Current window contents, oldest first. */
    public int[] tokens() { return tokens.clone(); }

    /** Appends a sampled token and drops the oldest ({@code cat([pool, token])[:, 1:]}). */
    public void push(int token) {
        if (!active) return;
        System.arraycopy(tokens, 1, tokens, 0, tokens.length - 1);
        tokens[tokens.length - 1] = token;
    }

    @Override public String toString() { return active ? "PenaltyWindow" + Arrays.toString(tokens) : "PenaltyWindow[none]"; }
}
