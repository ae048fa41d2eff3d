package bloom4j.text.ja;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lyric cleaning: the seed fork's broken whitespace rule kept the letter s and destroyed the tags; this one does neither. */
class LyricCleaningTest {
    @Test
    void phrasesLoseSpacesAndLatinScatAndCountWhatWasRemoved() {
        assertEquals("さくらさくら", LyricCleaning.clean("さくら さくら").text());
        assertEquals("やよいのそらは", LyricCleaning.clean("やよいの そらは").text());
        LyricCleaning.Cleaned c = LyricCleaning.clean("LABADADA みわたす かぎり");
        assertEquals("みわたすかぎり", c.text());
        assertEquals(8, c.removed().get("latin"));
    }

    @Test
    void punctuationWidthAndBrackets() {
        assertEquals("さくら。さいた。", LyricCleaning.clean("「さくら」、さいた！").text());
        assertEquals("カタカナ12", LyricCleaning.clean("ｶﾀｶﾅ１２").text());
        assertEquals("ラー", LyricCleaning.clean("ら〜".replace("ら", "ラ")).text());
        assertEquals(0.5, LyricCleaning.japaneseShare("abさく"), 1e-12);
    }
}
