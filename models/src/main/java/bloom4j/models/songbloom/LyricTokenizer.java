package bloom4j.models.songbloom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Phoneme string to lyric token ids plus the conditioner's structure/sentence state machine: {@code PhonemeTokenizerConditioner.tokenize}
 * and the index part of {@code .forward} in upstream {@code SongBloom/models/musicgen/conditioners/text.py}
 * (tencent-ailab/SongBloom@ef78022).
 *
 * <p><b>Input is already phonemes.</b> Upstream turns raw lyrics into this string first (step A, {@code SongBloom_Sampler._process_lyric}
 * with {@code G2P_Mix}: Chinese pinyin/tone-sandhi and English CMUdict/g2p_en front ends). That step is not part of this class: pass
 * the space-joined phoneme string it produces, e.g. {@code "[verse] n i3 h ao3 . w o3 , [chorus] HH AH0"}.
 *
 * <p>Tokenizing splits on the single space character exactly like Python's {@code str.split(" ")} (so a double space yields the
 * empty token {@code ''} = id 0, and tabs or newlines stay inside a piece) and keeps only pieces found in the vocabulary. Unknown
 * pieces are dropped as upstream does, but not silently here: they are returned in {@link TokenizedLyrics#dropped()} and logged at
 * debug level.
 *
 * <p>State machine, per string, starting at {@code cur_struct = 0, cur_sent = 1}, for each id {@code k}:
 * <pre>
 *   k is a structure tag  : special = k,          cur_struct = k, cur_sent = 1, sentence = 0
 *   k is '.'              : special = k,          cur_sent += 1,                sentence = 0
 *   k is ','              : special = k,                                        sentence = 0
 *   otherwise (incl. id 0): special = cur_struct,                               sentence = min(cur_sent, maxSentencePerStructure - 1)
 * </pre>
 * The cap uses the same {@code max_sentence_per_structure} that sizes the sentence embedding table, so the cap is always
 * "table rows - 1" (49 for the released 50-row table; the lyrics fixture uses a 4-row table, cap 3). Take it from the checkpoint.
 */
public final class LyricTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(LyricTokenizer.class);

    /** {@code max_sentence_per_structure} of the released configuration (rows of {@code sentence_idx_in_structure_emb}). */
    public static final int RELEASED_MAX_SENTENCE_PER_STRUCTURE = 50;

    private final LyricVocabulary vocab;
    private final int maxSentencePerStructure;

    /**
     * @param vocab                   the lyric vocabulary
     * @param maxSentencePerStructure rows of the sentence-index embedding table (upstream {@code max_sentence_per_structure}), >= 1
     */
    public LyricTokenizer(LyricVocabulary vocab, int maxSentencePerStructure) {
        if (maxSentencePerStructure < 1) {
            throw new IllegalArgumentException("maxSentencePerStructure must be >= 1 (rows of sentence_idx_in_structure_emb), got "
                    + maxSentencePerStructure);
        }
        this.vocab = vocab;
        this.maxSentencePerStructure = maxSentencePerStructure;
    }

    /** The released vocabulary with the released 50-row sentence table. */
    public static LyricTokenizer released() {
        return new LyricTokenizer(LyricVocabulary.released(), RELEASED_MAX_SENTENCE_PER_STRUCTURE);
    }

    public LyricVocabulary vocabulary() { return vocab; }

    public int maxSentencePerStructure() { return maxSentencePerStructure; }

    /** The largest sentence index produced ({@code maxSentencePerStructure - 1}). */
    public int sentenceIndexCap() { return maxSentencePerStructure - 1; }

    /**
     * Tokenizes one phoneme string. {@code null} is treated as {@code ""} like upstream, which gives the single id 0 (the CFG null
     * lyric, see {@link #nullLyrics()}).
     */
    public TokenizedLyrics tokenize(String phonemes) {
        String s = phonemes == null ? "" : phonemes;
        // limit -1 keeps trailing empty pieces, matching Python's str.split(" ").
        String[] pieces = s.split(" ", -1);
        int[] ids = new int[pieces.length];
        int n = 0;
        List<String> dropped = new ArrayList<>();
        for (String piece : pieces) {
            int id = vocab.id(piece);
            if (id < 0) dropped.add(piece);
            else ids[n++] = id;
        }
        if (!dropped.isEmpty() && LOG.isDebugEnabled()) {
            LOG.debug("dropped {} piece(s) not in the lyric vocabulary (as upstream does): {}", dropped.size(), dropped);
        }

        int[] tokens = Arrays.copyOf(ids, n);
        int[] special = new int[n];
        int[] sentence = new int[n];
        int curStruct = 0;
        int curSent = 1;
        int cap = sentenceIndexCap();
        for (int i = 0; i < n; i++) {
            int k = tokens[i];
            // Same test order as upstream: structure tag, then sentence split, then structure split, then content.
            if (vocab.isStructure(k)) {
                special[i] = k;
                curStruct = k;
                curSent = 1;
            } else if (k == vocab.sentenceSplitId()) {
                special[i] = k;
                curSent++;
            } else if (k == vocab.structureSplitId()) {
                special[i] = k;
            } else {
                special[i] = curStruct;
                sentence[i] = Math.min(curSent, cap);
            }
        }
        return new TokenizedLyrics(tokens, special, sentence, dropped);
    }

    /**
     * The unconditional (CFG null) lyric: upstream's {@code ClassifierFreeGuidanceDropout} sets the text to {@code None}, which
     * tokenizes as {@code ''}, i.e. ids {@code [0]} with special 0 and sentence index {@code min(1, cap)}.
     */
    public TokenizedLyrics nullLyrics() { return tokenize(""); }
}
