package bloom4j.text.zipvoice;

import bloom4j.text.en.EnglishIpa;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ZipVoice tokens for each language, the emilia segmentation and the token file reader. */
class ZipVoiceTokenizerTest {

    static String joined(ZipVoiceTokenizer.Result r) { return String.join("|", r.tokens()); }

    @Test void chineseIsInitialZeroAndFinalWithToneAfterSandhi() {
        ZipVoiceTokenizer.Result r = ZipVoiceTokenizer.tokens("你好。", ZipVoiceTokenizer.Lang.AUTO, false);
        assertEquals("n0|i2|h0|ao3|.", joined(r));      // third-tone sandhi: ni3 hao3 -> ni2 hao3
        assertEquals("zh/en", r.language());
        assertEquals(List.of("y0", "an3"), ZipVoiceTokenizer.separate("yan3"));
        assertEquals(List.of("er2"), ZipVoiceTokenizer.separate("er2"));
        assertEquals(List.of("zh0", "ong1"), ZipVoiceTokenizer.separate("zhong1"));
    }

    @Test void englishIsEspeakStyleIpaOneCodePointPerToken() {
        ZipVoiceTokenizer.Result r = ZipVoiceTokenizer.tokens("Hello, world.", ZipVoiceTokenizer.Lang.AUTO, false);
        assertEquals("həlˈoʊ, wˈɜːld.", String.join("", r.tokens()));
        assertTrue(r.tokens().stream().allMatch(t -> t.codePointCount(0, t.length()) == 1));
        assertEquals("bˈɛɾɚ", EnglishIpa.word(List.of("B", "EH1", "T", "ER0")));     // en-us flap
        assertEquals("kˈɑːɹ", EnglishIpa.word(List.of("K", "AA1", "R")));
        assertEquals("ɔːt", EnglishIpa.tokens("xqzvbnm ought").tokens().stream().filter(t -> !t.equals("ˈ")).reduce("", String::concat));
        assertEquals(1, EnglishIpa.tokens("xqzvbnm ought").oov().get("xqzvbnm"));
    }

    @Test void japaneseNeverGoesThroughTheChineseSplitter() {
        ZipVoiceTokenizer.Result r = ZipVoiceTokenizer.tokens("こんにちは", ZipVoiceTokenizer.Lang.AUTO, false);
        assertEquals("ja", r.language());
        assertEquals("k|o|N|n|i|ch|i|w|a", joined(r));
        ZipVoiceTokenizer.Result kanji = ZipVoiceTokenizer.tokens("日本", ZipVoiceTokenizer.Lang.JA, false);
        assertEquals("ja", kanji.language());
        assertTrue(kanji.tokens().contains("N"), joined(kanji));
    }

    @Test void tagsAndPinyinPassWholeAndOtherScriptsAreReported() {
        assertEquals("[laugh]|ch0|ang2", joined(ZipVoiceTokenizer.tokens("[laugh]<chang2>", ZipVoiceTokenizer.Lang.AUTO, false)));
        ZipVoiceTokenizer.Result r = ZipVoiceTokenizer.tokens("Привет", ZipVoiceTokenizer.Lang.AUTO, false);
        assertTrue(r.tokens().isEmpty());
        assertEquals(1, r.oov().get("Привет"));
        List<String[]> segs = ZipVoiceTokenizer.segments("我们是小米人,是吗? Yes I think so!霍");
        assertEquals(3, segs.size());
        assertEquals("我们是小米人,是吗? ", segs.get(0)[0]);
        assertEquals("en", segs.get(1)[1]);
    }

    @Test void tokenFileKeepsTheSpaceLineAndRefusesBadLines() {
        TokenTable t = TokenTable.parse(List.of("_\t0", "^\t1", " \t2", "a\t3"), "tokens.txt");
        assertEquals(2, t.id(" "));
        assertEquals(0, t.padId());
        assertEquals(4, t.vocabSize());
        TokenTable.Mapped m = t.ids(List.of("a", " ", "ʃ"));
        assertEquals(List.of("ʃ"), m.unknown());
        assertEquals(2, m.ids().length);
        Exception e = assertThrows(IllegalArgumentException.class, () -> TokenTable.parse(List.of("_\t0", "a 1"), "tokens.txt"));
        assertTrue(e.getMessage().startsWith("tokens.txt:2:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenTable.parse(List.of("_\t0", "a\t5"), "tokens.txt"));
        assertThrows(IllegalArgumentException.class, () -> TokenTable.parse(List.of("a\t0"), "tokens.txt"));
    }
}
