package bloom4j.text.en;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * English as the IPA that ZipVoice's released models were trained on (espeak-ng {@code en-us} through piper-phonemize, one token per
 * code point: k2-fsa/ZipVoice@2f7326f {@code zipvoice/tokenizer/tokenizer.py} L321-329), computed on the JVM: no espeak-ng exists
 * for Java, so words are read by {@link EnglishG2p} (CMU dictionary, numbers as words, short unknown words spelled) and each
 * ARPAbet phone is written in espeak-ng's en-us symbols:
 * <ul>
 *   <li>vowels {@code AA ɑː, AE æ, AH ʌ (stressed) / ə, AO ɔː, AW aʊ, AY aɪ, EH ɛ, ER ɜː (stressed) / ɚ, EY eɪ, IH ɪ, IY iː / i
 *       (unstressed), OW oʊ, OY ɔɪ, UH ʊ, UW uː}; before {@code R}: {@code ɑːɹ, oːɹ, ɛɹ, ɪɹ, ʊɹ};</li>
 *   <li>the stress mark ({@code ˈ} primary, {@code ˌ} secondary) just before the vowel, as espeak-ng writes it;</li>
 *   <li>consonants {@code CH tʃ, DH ð, G ɡ, HH h, JH dʒ, NG ŋ, R ɹ, SH ʃ, TH θ, Y j, ZH ʒ}, the rest as their letter; {@code T}
 *       between a vowel (or R) and an unstressed vowel is the flap {@code ɾ} (en-us);</li>
 *   <li>a space token between words, punctuation {@code , . ? !} kept after its word.</li>
 * </ul>
 * espeak-ng's letter-to-sound rules for unknown words, its reduced function words and other allophones are not reproduced:
 * {@code bloom4j bench english-ipa} measures the token agreement with espeak-ng on a word list.
 */
public final class EnglishIpa {
    private EnglishIpa() {}

    /** Tokens (one code point each, {@code " "} between words) and the words that could not be read. */
    public record Result(List<String> tokens, Map<String, Integer> oov) { }

    private static final Map<String, String> CONSONANTS = Map.ofEntries(Map.entry("B", "b"), Map.entry("CH", "tʃ"),
            Map.entry("D", "d"), Map.entry("DH", "ð"), Map.entry("F", "f"), Map.entry("G", "ɡ"), Map.entry("HH", "h"),
            Map.entry("JH", "dʒ"), Map.entry("K", "k"), Map.entry("L", "l"), Map.entry("M", "m"), Map.entry("N", "n"),
            Map.entry("NG", "ŋ"), Map.entry("P", "p"), Map.entry("R", "ɹ"), Map.entry("S", "s"), Map.entry("SH", "ʃ"),
            Map.entry("T", "t"), Map.entry("TH", "θ"), Map.entry("V", "v"), Map.entry("W", "w"), Map.entry("Y", "j"),
            Map.entry("Z", "z"), Map.entry("ZH", "ʒ"));
    private static final Set<String> PUNCTUATION = Set.of(",", ".", "?", "!");

    public static Result tokens(String text) {
        EnglishG2p.Words w = EnglishG2p.words(text);
        StringBuilder out = new StringBuilder();
        for (List<String> word : w.words()) {
            String first = word.get(0);
            if (word.size() == 1 && PUNCTUATION.contains(first)) {
                trimSpace(out);
                out.append(first).append(' ');
                continue;
            }
            if (word.size() == 1 && first.equals("-")) continue;
            out.append(word(word)).append(' ');
        }
        trimSpace(out);
        List<String> tokens = new ArrayList<>();
        out.codePoints().forEach(c -> tokens.add(new String(Character.toChars(c))));
        return new Result(List.copyOf(tokens), w.oov());
    }

    /** One word's ARPAbet phones (with stress digits) in espeak-ng's en-us IPA. */
    public static String word(List<String> phones) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < phones.size(); i++) {
            String p = phones.get(i);
            String next = i + 1 < phones.size() ? phones.get(i + 1) : null;
            if (isVowel(p)) {
                char stress = p.charAt(p.length() - 1);
                if (stress == '1') b.append('ˈ');
                else if (stress == '2') b.append('ˌ');
                String base = p.substring(0, p.length() - 1);
                boolean r = "R".equals(next);
                b.append(vowel(base, stress, r));
                if (r && rhoticPair(base)) {
                    b.append('ɹ');
                    i++;
                }
            } else if (p.equals("T") && i > 0 && (isVowel(phones.get(i - 1)) || phones.get(i - 1).equals("R")) && next != null
                    && isVowel(next) && next.endsWith("0")) {
                b.append('ɾ');
            } else {
                String c = CONSONANTS.get(p);
                if (c == null) throw new IllegalArgumentException("not an ARPAbet phone: " + p);
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isVowel(String p) { return Character.isDigit(p.charAt(p.length() - 1)); }

    private static boolean rhoticPair(String v) { return v.equals("AA") || v.equals("AO") || v.equals("EH") || v.equals("IH") || v.equals("UH"); }

    private static String vowel(String v, char stress, boolean beforeR) {
        boolean stressed = stress != '0';
        return switch (v) {
            case "AA" -> "ɑː";
            case "AE" -> "æ";
            case "AH" -> stressed ? "ʌ" : "ə";
            case "AO" -> beforeR ? "oː" : "ɔː";
            case "AW" -> "aʊ";
            case "AY" -> "aɪ";
            case "EH" -> "ɛ";
            case "ER" -> stressed ? "ɜː" : "ɚ";
            case "EY" -> "eɪ";
            case "IH" -> "ɪ";
            case "IY" -> stressed ? "iː" : "i";
            case "OW" -> "oʊ";
            case "OY" -> "ɔɪ";
            case "UH" -> "ʊ";
            case "UW" -> "uː";
            default -> throw new IllegalArgumentException("not an ARPAbet vowel: " + v + stress);
        };
    }

    private static void trimSpace(StringBuilder b) {
        while (b.length() > 0 && b.charAt(b.length() - 1) == ' ') b.setLength(b.length() - 1);
    }
}
