package bloom4j.models.songbloom;

import java.util.List;

/**
 * One lyric string after the conditioner's tokenizer and state machine. All three id arrays
 * have one entry per kept token and are not truncated: truncation to {@code max_len} happens when embedding, as upstream does.
 *
 * @param tokenIds    vocabulary ids of the kept tokens, in order
 * @param specialIds  per token: the tag itself for a structure tag, {@code ','} or {@code '.'}, else the current structure (0 before
 *                    the first tag)
 * @param sentenceIds per token: 0 for tags and splits, else the sentence index inside the structure, capped at
 *                    {@code max_sentence_per_structure - 1}
 * @param dropped     the space-separated pieces that are not in the vocabulary, in input order (upstream drops them silently)
 */
public record TokenizedLyrics(int[] tokenIds, int[] specialIds, int[] sentenceIds, List<String> dropped) {

    public TokenizedLyrics {
        if (tokenIds.length != specialIds.length || tokenIds.length != sentenceIds.length) {
            throw new IllegalArgumentException("id arrays differ in length: tokens " + tokenIds.length + ", special "
                    + specialIds.length + ", sentence " + sentenceIds.length);
        }
        tokenIds = tokenIds.clone();
        specialIds = specialIds.clone();
        sentenceIds = sentenceIds.clone();
        dropped = List.copyOf(dropped);
    }

    @Override public int[] tokenIds() { return tokenIds.clone(); }

    @Override public int[] specialIds() { return specialIds.clone(); }

    @Override public int[] sentenceIds() { return sentenceIds.clone(); }

    /** Number of kept tokens (before truncation). */
    public int length() { return tokenIds.length; }

    /** The token id at position {@code i}. */
    public int tokenId(int i) { return tokenIds[i]; }

    public int specialId(int i) { return specialIds[i]; }

    public int sentenceId(int i) { return sentenceIds[i]; }
}
