package bloom4j.text.ja;

import java.text.Normalizer;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cleaning of a Japanese lyric phrase before G2P, for corpus preparation: width normalised (full-width ASCII to half-width,
 * half-width katakana to full-width), {@code 。．！？!?…} and {@code 、，,} become sentence ends ({@code 。}: in SongBloom lyrics a
 * comma separates sections, so inside a phrase it ends a sentence), brackets and quotes removed, {@code 〜/～} after kana become
 * {@code ー}; kept are kana, CJK ideographs, 々 〆 ヶ, ASCII digits (for the number reader) and whitespace; everything else
 * (Latin letters, symbols, emoji) is dropped and counted by class. Whitespace is removed (it carries no meaning in a Japanese
 * phrase; two numbers keep one space between them).
 */
public final class LyricCleaning {
    private LyricCleaning() {}

    /** The cleaned text and the characters removed, by class ({@code latin}, {@code symbol}, ...). */
    public record Cleaned(String text, Map<String, Integer> removed) { }

    private static final String ENDS = "。．！？!?…、，,";
    private static final String BRACKETS = "「」『』（）()【】〈〉《》\"'“”‘’";

    public static Cleaned clean(String phrase) {
        String s = Normalizer.normalize(phrase, Normalizer.Form.NFKC);
        StringBuilder b = new StringBuilder();
        Map<String, Integer> removed = new TreeMap<>();
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (ENDS.indexOf(c) >= 0) {
                b.append('。');
            } else if (BRACKETS.indexOf(c) >= 0) {
                removed.merge("bracket", 1, Integer::sum);
            } else if (c == '〜' || c == '～') {
                if (b.length() > 0 && KanaPhones.isKana(b.charAt(b.length() - 1))) b.append('ー');
                else removed.merge("symbol", 1, Integer::sum);
            } else if (c < 0x10000 && (JapaneseG2p.isJapanese((char) c) || c == '・') || (c >= '0' && c <= '9')) {
                b.appendCodePoint(c);
            } else if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                b.append(' ');   // collapsed below; spaces carry no meaning inside a Japanese phrase
            } else {
                removed.merge(Character.isLetter(c) ? (c < 0x250 ? "latin" : "other letter") : Character.isDigit(c) ? "digit"
                        : Character.getType(c) == Character.OTHER_SYMBOL ? "symbol or emoji" : "punctuation or symbol", 1, Integer::sum);
            }
        }
        String t = b.toString().replaceAll("\\s+", " ").strip();
        t = t.replaceAll("(?<=\\D) | (?=\\D)", "");   // no space survives except between two digits
        return new Cleaned(t, removed);
    }

    /** Share of Japanese characters (kana, kanji) among the letters of {@code raw} before cleaning, 0..1 (1 when it has none). */
    public static double japaneseShare(String raw) {
        int letters = 0, ja = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (JapaneseG2p.isJapanese(c)) {
                ja++;
                letters++;
            } else if (Character.isLetter(c)) {
                letters++;
            }
        }
        return letters == 0 ? 1 : ja / (double) letters;
    }
}
