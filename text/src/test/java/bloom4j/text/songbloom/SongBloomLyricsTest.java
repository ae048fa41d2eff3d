package bloom4j.text.songbloom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Structured Japanese lyrics to SongBloom's phoneme string. */
class SongBloomLyricsTest {
    @Test
    void tagsSentencesAndSectionsAsTheLyricFormatWants() {
        SongBloomLyrics.Result r = SongBloomLyrics.phonemes("[intro] [intro] , [verse] さくら さくら。やよいの そらは , [outro]");
        assertEquals("[intro] [intro] , [verse] s a k u r a s a k u r a . y a y o i n o s o r a w a , [outro]", r.phonemes());
        assertTrue(r.oov().isEmpty());
    }

    @Test
    void commasInsideJapaneseEndSentencesAndDevoicedOrForeignPhonesAreSubstituted() {
        assertEquals("[verse] s a k u r a . s a k u r a", SongBloomLyrics.phonemes("[verse] さくら、さくら").phonemes());
        assertEquals("[verse] t y u u b u", SongBloomLyrics.phonemes("[verse] テューブ").phonemes());
        assertEquals("[verse] f y u u j o N", SongBloomLyrics.phonemes("[verse] フュージョン").phonemes());
    }

    @Test
    void phonemeStringsPassUnchanged() {
        String p = "[verse] n i3 h ao3 . w o3 , [chorus] HH AH0 L OW1";
        assertFalse(SongBloomLyrics.needsG2p(p));
        assertEquals(p, SongBloomLyrics.phonemes(p).phonemes());
    }

    @Test
    void englishAndMixedPiecesAsUpstreamsPhonemeMode() {
        assertEquals("[chorus] HH AH0 L OW1 W ER1 L D , [verse] n i2 h ao3 HH AH0 L OW1",
                SongBloomLyrics.phonemes("[chorus] hello world , [verse] 你好hello").phonemes());
        assertEquals("[verse] n i3 . a", SongBloomLyrics.phonemes("[verse] n i3 . a").phonemes(), "symbols stay as they are");
    }

    @Test
    void unreadableWordsAreReported() {
        SongBloomLyrics.Result r = SongBloomLyrics.phonemes("[verse] さくら LABADADA");
        assertEquals("[verse] s a k u r a", r.phonemes());
        assertTrue(r.oov().containsKey("LABADADA"), r.oov().toString());
    }

    @Test
    void mandarinGoesThroughTheMandarinG2pAndJapaneseNever() {
        assertEquals("[verse] n i2 h ao3 . w o3 AA ai4 n i3 , [chorus] HH AH0", SongBloomLyrics.phonemes(
                "[verse] 你好 . 我爱你 , [chorus] HH AH0").phonemes());
        assertEquals(SongBloomLyrics.Lang.JA, SongBloomLyrics.detect("[verse] 桜が咲いた"));
        assertEquals(SongBloomLyrics.Lang.ZH, SongBloomLyrics.detect("[verse] 东京"));
        assertEquals("[verse] t o o ky o o", SongBloomLyrics.phonemes("[verse] 東京", SongBloomLyrics.Lang.JA).phonemes());
    }
}
