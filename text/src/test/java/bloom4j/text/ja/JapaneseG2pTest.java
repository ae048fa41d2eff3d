package bloom4j.text.ja;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pyopenjtalk phone strings recorded in the forks' tests (ayutaz/ZipVoice tests/test_japanese_tokenizer.py,
 * ayutaz/SongBloom docs/training_architecture.md), and the table's special morae.
 */
class JapaneseG2pTest {
    static String phones(String text, boolean devoice) {
        return String.join(" ", JapaneseG2p.g2p(text, JapaneseG2p.Options.speech(devoice)).phones());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "こんにちは|k o N n i ch i w a",
            "東京|t o o ky o o",
            "切手|k i cl t e",
            "新聞|sh i N b u N",
            "桜の花が咲いている|s a k u r a n o h a n a g a s a i t e i r u",
            "私は|w a t a sh i w a",
            "ラーメン|r a a m e N",
            "本を読む|h o N o y o m u"})
    void recordedPyopenjtalkPhones(String text, String expected) {
        assertEquals(expected, phones(text, false));
    }

    @Test
    void devoicingAsOpenJTalk() {
        assertEquals("a sh I t a w a h a r e d e s U", phones("明日は晴れです。", true));
        assertEquals("a sh i t a w a h a r e d e s u", phones("明日は晴れです。", false));
    }

    @Test
    void specialMorae() {
        assertEquals("a cl", String.join(" ", morae("アッ")));
        assertEquals("k o o h i i", String.join(" ", morae("コーヒー")));
        assertEquals("N N", String.join(" ", morae("ンー")));
        assertEquals("a", String.join(" ", morae("ーア")));
        assertEquals("ty u f a i gy e", String.join(" ", morae("テュファイギェ")));
        assertEquals("sh a sh a g a g a", String.join(" ", morae("シャシャガヾ".replace("ガヾ", "ガガ"))));
        assertEquals("k a g a", String.join(" ", morae("カヾ")));
        assertNull(KanaPhones.morae("ア★"));
        assertEquals("サクラ", KanaPhones.katakana("さくら"));
    }

    static List<String> morae(String k) {
        return KanaPhones.morae(k).stream().flatMap(m -> m.phones().stream()).toList();
    }

    @Test
    void sentencesPausesAndLyricsCommas() {
        JapaneseG2p.Result speech = JapaneseG2p.g2p("さくら、さくら。やよいの空は？", JapaneseG2p.Options.speech(false));
        assertEquals(2, speech.sentences().size());
        assertEquals("s a k u r a pau s a k u r a", String.join(" ", speech.sentences().get(0).phones()));
        assertTrue(speech.sentences().get(1).question());
        JapaneseG2p.Result lyric = JapaneseG2p.g2p("さくら、さくら", JapaneseG2p.Options.lyrics());
        assertEquals(2, lyric.sentences().size(), "in lyrics a comma ends a sentence");
    }

    @Test
    void unknownWordsAreReportedNeverPassedThrough() {
        JapaneseG2p.Result r = JapaneseG2p.g2p("Hello さくら★", JapaneseG2p.Options.speech(false));
        assertEquals("s a k u r a", String.join(" ", r.phones()));
        assertTrue(r.oov().containsKey("Hello"), r.oov().toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0|ゼロ", "10|ジュウ", "11|ジュウイチ", "100|ヒャク", "300|サンビャク", "600|ロッピャク", "800|ハッピャク",
            "1000|セン", "3000|サンゼン", "8000|ハッセン", "1980|センキュウヒャクハチジュウ", "10000|イチマン",
            "10000000|イッセンマン", "100000000|イチオク", "1000000000000|イッチョウ", "8000000000000|ハッチョウ",
            "10000000000000|ジュッチョウ", "100000000000000|ヒャクチョウ", "3.14|サンテンイチヨン"})
    void numbersReadWithSoundChanges(String digits, String reading) {
        assertEquals(reading, JapaneseNumbers.read(digits));
    }

    @Test
    void digitsInTextAreRead() {
        assertEquals("s e N ky u u h y a k u", phones("1900", false).replace("hy a", "h y a"));
        Map<String, Integer> none = JapaneseG2p.g2p("2024年", JapaneseG2p.Options.speech(false)).oov();
        assertTrue(none.isEmpty(), none.toString());
    }
}
