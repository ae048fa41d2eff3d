package bloom4j.text.zipvoice;

import bloom4j.text.ja.JapaneseG2p;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZipVoiceJapaneseTokensTest {
    @Test
    void devoicedSpeechWithPausesAndEveryPhoneHasAnId() {
        JapaneseG2p.Result r = JapaneseG2p.g2p("明日は、晴れです。フュージョン。", JapaneseG2p.Options.speech(true));
        List<String> t = ZipVoiceJapaneseTokens.tokens(r);
        assertEquals("a sh I t a w a pau h a r e d e s U pau f y u u j o N", String.join(" ", t));
        for (String p : t) assertTrue(ZipVoiceJapaneseTokens.id(p) >= 0, p);
        assertEquals(381, ZipVoiceJapaneseTokens.id("sh"));
        assertEquals(362, ZipVoiceJapaneseTokens.id("I"));
        assertEquals(154, ZipVoiceJapaneseTokens.id("g"));
        assertTrue(ZipVoiceJapaneseTokens.IDS.values().stream().allMatch(i -> i < ZipVoiceJapaneseTokens.VOCAB_SIZE));
    }
}
