package bloom4j.text.songbloom;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Random lyrics mixing every script and symbol the front end meets (kana, kanji, Latin, digits, tags, punctuation, emoji,
 * half-width katakana, iteration marks, stray brackets): phonemising never throws, never hangs, and never emits an empty piece
 * or raw input characters outside the symbol set, except as reported unread words.
 */
class LyricsFuzzTest {
    static final String[] PARTS = {"さくら", "ｻｸﾗ", "東京", "々", "ゝ", "ヾ", "ー", "ッ", "ン", "你好", "我爱你", "一", "不", "hello", "A", "qzx",
            "Bob's", "123", "3.14", "10000000000000000000", "[verse]", "[chorus]", "[", "]", " , ", " . ", "。", "、", "！", "?", "…",
            "—", "😀", "é", "\t", "  ", "「", "」", "〜", "n i3", "HH AH0", "'", "-", "ヴュ", "ぁ", "ヶ"};

    @Test
    void randomLyricsAlwaysBecomeSymbolsOrReports() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 400; i++) {
            StringBuilder b = new StringBuilder();
            int n = 1 + rnd.nextInt(12);
            for (int k = 0; k < n; k++) b.append(PARTS[rnd.nextInt(PARTS.length)]);
            String lyric = b.toString();
            for (SongBloomLyrics.Lang lang : SongBloomLyrics.Lang.values()) {
                SongBloomLyrics.Result r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                        () -> SongBloomLyrics.phonemes(lyric, lang), lyric);
                if (r.phonemes().isEmpty()) continue;
                for (String piece : r.phonemes().split(" ", -1)) {
                    assertFalse(piece.isEmpty(), "an empty piece from " + lyric + " -> " + r.phonemes());
                    boolean symbol = SongBloomSymbols.contains(piece);
                    boolean reported = r.oov().keySet().stream().anyMatch(w -> w.contains(piece));
                    if (!symbol && !reported && !(piece.startsWith("[") && piece.endsWith("]"))) {
                        throw new AssertionError("'" + piece + "' is neither a vocabulary symbol nor reported, from '" + lyric + "' ("
                                + lang + ") -> " + r.phonemes() + " oov " + r.oov());
                    }
                }
            }
        }
    }
}
