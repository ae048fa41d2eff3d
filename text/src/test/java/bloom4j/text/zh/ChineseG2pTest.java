package bloom4j.text.zh;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mandarin to SongBloom phones: opencpop-strict finals with tones after the sandhi rules of upstream's tone_sandhi.py. */
class ChineseG2pTest {
    static String phones(String s) { return String.join(" ", ChineseG2p.g2p(s).phones()); }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "你好|n i2 h ao3",                 // third-tone sandhi in a word
            "我爱你|w o3 AA ai4 n i3",
            "是字|sh ir4 z i04",               // apical vowels
            "女儿|n v3 EE er2",
            "学|x ve2",                         // ü after x
            "一个|y i2 g e5",                  // 一 before tone 4, measure-word 个 neutral
            "不是|b u2 sh ir4",                // 不 before tone 4
            "老虎|l ao2 h u3",
            "看一看|k an4 y i5 k an4",         // V一V
            "天上|t ian1 sh ang5",             // 上 after a place word (POS s) is neutral
            "你好，世界。|n i2 h ao3 , sh ir4 j ie4 ."})
    void upstreamRules(String text, String expected) {
        assertEquals(expected, phones(text));
    }

    @Test
    void opencpopSpecials() {
        assertArrayEquals(new String[] {"y", "En"}, Opencpop.split("yan"));
        assertArrayEquals(new String[] {"j", "van"}, Opencpop.split("juan"));
        assertArrayEquals(new String[] {"AA", "ang"}, Opencpop.split("ang"));
        assertArrayEquals(new String[] {"w", "ei"}, Opencpop.split("wei"));
        assertArrayEquals(new String[] {"l", "ve"}, Opencpop.split("lve"));
        assertNull(Opencpop.split("xyz"));
    }

    @Test
    void numbersAndDroppedCharacters() {
        assertEquals("一百二十三", ChineseNumbers.read("123"));
        assertEquals("十五", ChineseNumbers.read("15"));
        assertEquals("一万零五", ChineseNumbers.read("10005"));
        assertEquals("三点一四", ChineseNumbers.read("3.14"));
        ChineseG2p.Result r = ChineseG2p.g2p("hello 你好");
        assertEquals("n i2 h ao3", String.join(" ", r.phones()));
        assertTrue(r.oov().containsKey("hello"), r.oov().toString());
    }
}
