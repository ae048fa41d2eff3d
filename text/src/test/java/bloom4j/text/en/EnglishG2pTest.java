package bloom4j.text.en;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** English as upstream's english.py reads it, on the shipped CMU dictionary. */
class EnglishG2pTest {
    static String phones(String s) { return String.join(" ", EnglishG2p.g2p(s).phones()); }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "hello world|HH AH0 L OW1 W ER1 L D",
            "A|EY1",                              // a lone capital A is the letter
            "a cat|AH0 K AE1 T",
            "zzx|Z IY1 Z IY1 EH1 K S",             // unknown, three letters: spelled
            "Bob's|B AA1 B Z",                     // possessive after a voiced consonant
            "12 cats!|T W EH1 L V K AE1 T S !",
            "café|K AH0 F EY1"})                   // accents stripped
    void upstreamRules(String text, String expected) {
        assertEquals(expected, phones(text));
    }

    @Test
    void longUnknownWordsAreReportedNotGuessed() {
        EnglishG2p.Result r = EnglishG2p.g2p("hello qzxvkw");
        assertEquals("HH AH0 L OW1", String.join(" ", r.phones()));
        assertTrue(r.oov().containsKey("qzxvkw"), r.oov().toString());
        assertEquals("one hundred and twenty three point four five", EnglishNumbers.read("123.45"));
        assertEquals("two million five", EnglishNumbers.read("2000005"));
    }
}
