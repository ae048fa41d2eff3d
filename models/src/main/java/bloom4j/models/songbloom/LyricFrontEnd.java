package bloom4j.models.songbloom;

import bloom4j.text.songbloom.SongBloomLyrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What SongBloom is given as a lyric: the phoneme string ({@code lyrics_phonemes} as is, else the {@code lyrics} through
 * {@link SongBloomLyrics}: Japanese text phonemised, phoneme strings kept), and everything the conditioner would lose on the way
 * — pieces not in the vocabulary (upstream drops them without a word, so a lyric in plain English or Chinese would become a song
 * without words), words the G2P could not read, and tokens beyond the conditioner's {@code max_len}.
 */
public final class LyricFrontEnd {
    private LyricFrontEnd() {}

    /**
     * @param phonemes  the string handed to the conditioner
     * @param unknown   pieces not in the vocabulary (each once, in order)
     * @param oov       words the G2P could not read (surface → count)
     * @param tokens    pieces the conditioner keeps before truncation
     * @param maxTokens the conditioner's rows ({@code max_len}, 600 released)
     */
    public record Prepared(String phonemes, List<String> unknown, Map<String, Integer> oov, int tokens, int maxTokens) {
        /** Whether words or tokens would be lost. */
        public boolean lossy() { return !unknown.isEmpty() || !oov.isEmpty() || tokens > maxTokens; }

        /** What would be lost, as one message; empty when nothing is. */
        public String loss() {
            List<String> parts = new ArrayList<>();
            if (!oov.isEmpty()) parts.add("the G2P cannot read " + oov.keySet());
            if (!unknown.isEmpty()) {
                parts.add(unknown.size() + " piece(s) are not in SongBloom's lyric vocabulary and would be dropped: "
                        + (unknown.size() > 12 ? unknown.subList(0, 12) + "…" : unknown)
                        + " (see README 'Lyrics' for what each language becomes)");
            }
            if (tokens > maxTokens) parts.add(tokens + " tokens, more than the " + maxTokens + " the conditioner keeps");
            return String.join("; ", parts);
        }
    }

    /**
     * @param lyrics         the raw structured lyric (tags + text or phonemes)
     * @param lyricsPhonemes a phoneme string to use as is, or null
     * @param vocab          the lyric vocabulary
     * @param maxTokens      the conditioner's {@code max_len}
     */
    public static Prepared prepare(String lyrics, String lyricsPhonemes, LyricVocabulary vocab, int maxTokens) {
        return prepare(lyrics, lyricsPhonemes, vocab, maxTokens, SongBloomLyrics.Lang.AUTO);
    }

    /** {@link #prepare(String, String, LyricVocabulary, int)} with the language forced (or {@code AUTO}). */
    public static Prepared prepare(String lyrics, String lyricsPhonemes, LyricVocabulary vocab, int maxTokens,
                                   SongBloomLyrics.Lang lang) {
        String phonemes;
        Map<String, Integer> oov;
        if (lyricsPhonemes != null) {
            phonemes = lyricsPhonemes.strip();
            oov = Map.of();
        } else {
            SongBloomLyrics.Result r = SongBloomLyrics.phonemes(lyrics, lang);
            phonemes = r.phonemes();
            oov = r.oov();
        }
        Map<String, Boolean> unknown = new LinkedHashMap<>();
        int kept = 0;
        for (String piece : phonemes.split(" ", -1)) {
            if (vocab.contains(piece)) kept++;
            else unknown.put(piece, true);
        }
        return new Prepared(phonemes, List.copyOf(unknown.keySet()), java.util.Collections.unmodifiableMap(new LinkedHashMap<>(oov)), kept,
                maxTokens);
    }
}
