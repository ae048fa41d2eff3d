package bloom4j.text.ja;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Katakana to phones with OpenJTalk's conventions (its {@code jpcommon} mora list, as pyopenjtalk prints phones): longest match
 * over a mora table, {@code ン → N}, {@code ッ → cl}, {@code ー} repeating the previous vowel ({@code N} after {@code N}; dropped
 * after {@code cl} or at the start). A few digraphs only pyopenjtalk-plus knows are included ({@code フュ fy u}, {@code デェ dy e},
 * {@code クィ kw i} ...); {@code ヂャ/ヂュ/ヂョ/ヂェ} are read {@code j a/u/o/e}.
 */
public final class KanaPhones {
    private KanaPhones() {}

    /** One mora: an optional consonant, a vowel (or the whole special mora {@code N} / {@code cl}), and its kind. */
    public record Mora(String consonant, String vowel, Kind kind) {
        public enum Kind { PLAIN, NASAL, GEMINATE }

        /** The phones of the mora in order. */
        public List<String> phones() {
            return consonant == null ? List.of(vowel) : List.of(consonant, vowel);
        }
    }

    private static final Map<String, String[]> TABLE = new HashMap<>();

    private static void put(String kana, String consonant, String vowel) { TABLE.put(kana, new String[] {consonant, vowel}); }

    private static void row(String kana, String consonant, String... vowels) {
        for (int i = 0; i < kana.length(); i++) put(kana.substring(i, i + 1), consonant, vowels[i]);
    }

    static {
        row("アイウエオ", null, "a", "i", "u", "e", "o");
        row("ァィゥェォ", null, "a", "i", "u", "e", "o");
        row("ヲヰヱ", null, "o", "i", "e");
        row("カキクケコ", "k", "a", "i", "u", "e", "o");
        row("ガギグゲゴ", "g", "a", "i", "u", "e", "o");
        row("サスセソ", "s", "a", "u", "e", "o");
        put("シ", "sh", "i");
        row("ザズゼゾ", "z", "a", "u", "e", "o");
        put("ジ", "j", "i");
        row("タテト", "t", "a", "e", "o");
        put("チ", "ch", "i");
        put("ツ", "ts", "u");
        row("ダデド", "d", "a", "e", "o");
        put("ヂ", "j", "i");
        put("ヅ", "z", "u");
        row("ナニヌネノ", "n", "a", "i", "u", "e", "o");
        row("ハヒヘホ", "h", "a", "i", "e", "o");
        put("フ", "f", "u");
        row("バビブベボ", "b", "a", "i", "u", "e", "o");
        row("パピプペポ", "p", "a", "i", "u", "e", "o");
        row("マミムメモ", "m", "a", "i", "u", "e", "o");
        row("ヤユヨ", "y", "a", "u", "o");
        row("ラリルレロ", "r", "a", "i", "u", "e", "o");
        put("ワ", "w", "a");
        put("ヴ", "v", "u");
        put("ヴァ", "v", "a");
        put("ヴィ", "v", "i");
        put("ヴェ", "v", "e");
        put("ヴォ", "v", "o");
        String[][] palatal = {{"キ", "ky"}, {"ギ", "gy"}, {"シ", "sh"}, {"ジ", "j"}, {"チ", "ch"}, {"ヂ", "j"}, {"ニ", "ny"}, {"ヒ", "hy"},
                {"ビ", "by"}, {"ピ", "py"}, {"ミ", "my"}, {"リ", "ry"}};
        for (String[] p : palatal) {
            put(p[0] + "ャ", p[1], "a");
            put(p[0] + "ュ", p[1], "u");
            put(p[0] + "ョ", p[1], "o");
            put(p[0] + "ェ", p[1], "e");
        }
        put("テャ", "ty", "a");
        put("テュ", "ty", "u");
        put("テョ", "ty", "o");
        put("デャ", "dy", "a");
        put("デュ", "dy", "u");
        put("デョ", "dy", "o");
        put("デェ", "dy", "e");
        put("ヴャ", "by", "a");
        put("ヴュ", "by", "u");
        put("ヴョ", "by", "o");
        put("ティ", "t", "i");
        put("トゥ", "t", "u");
        put("ディ", "d", "i");
        put("ドゥ", "d", "u");
        put("スィ", "s", "i");
        put("ズィ", "z", "i");
        put("ツァ", "ts", "a");
        put("ツィ", "ts", "i");
        put("ツェ", "ts", "e");
        put("ツォ", "ts", "o");
        put("ファ", "f", "a");
        put("フィ", "f", "i");
        put("フェ", "f", "e");
        put("フォ", "f", "o");
        put("フュ", "fy", "u");
        put("ウィ", "w", "i");
        put("ウェ", "w", "e");
        put("ウォ", "w", "o");
        put("イェ", "y", "e");
        put("シィ", "s", "i");
        put("クヮ", "kw", "a");
        put("グヮ", "gw", "a");
        String[] kwVowels = {"ィ", "i", "ェ", "e", "ォ", "o", "ゥ", "u"};
        for (int i = 0; i < kwVowels.length; i += 2) {
            put("ク" + kwVowels[i], "kw", kwVowels[i + 1]);
            put("グ" + kwVowels[i], "gw", kwVowels[i + 1]);
        }
        put("ヶ", "k", "e");
        put("ャ", "y", "a");
        put("ュ", "y", "u");
        put("ョ", "y", "o");
        put("ヮ", "w", "a");
    }

    /** Hiragana to katakana (U+3041–U+3096 shifted by 0x60, ゝゞ to ヽヾ); other characters unchanged. */
    public static String katakana(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x3041 && c <= 0x3096) b.append((char) (c + 0x60));
            else if (c == 'ゝ' || c == 'ゞ') b.append((char) (c + 0x60));
            else b.append(c);
        }
        return b.toString();
    }

    /** Whether {@code c} is a kana letter (hiragana or katakana, including ー and the iteration marks), not punctuation. */
    public static boolean isKana(char c) {
        return (c >= 0x3041 && c <= 0x3096) || c == 'ゝ' || c == 'ゞ' || (c >= 0x30A1 && c <= 0x30FA) || c == 'ー' || c == 'ヽ'
                || c == 'ヾ';
    }

    /**
     * The morae of a katakana string, or null if it holds a character the table does not know (the caller records it as OOV).
     * Iteration marks repeat the previous kana (ヾ voiced); {@code ー} is resolved against the previous mora.
     */
    public static List<Mora> morae(String katakana) {
        String s = expandIterationMarks(katakana);
        if (s == null) return null;
        List<Mora> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == 'ン') {
                out.add(new Mora(null, "N", Mora.Kind.NASAL));
                i++;
                continue;
            }
            if (c == 'ッ') {
                out.add(new Mora(null, "cl", Mora.Kind.GEMINATE));
                i++;
                continue;
            }
            if (c == 'ー') {
                Mora prev = out.isEmpty() ? null : out.get(out.size() - 1);
                if (prev != null && prev.kind() == Mora.Kind.NASAL) out.add(new Mora(null, "N", Mora.Kind.NASAL));
                else if (prev != null && prev.kind() == Mora.Kind.PLAIN) out.add(new Mora(null, prev.vowel(), Mora.Kind.PLAIN));
                i++;   // after cl or at the start: dropped
                continue;
            }
            String[] hit = i + 1 < s.length() ? TABLE.get(s.substring(i, i + 2)) : null;
            int len = 2;
            if (hit == null) {
                hit = TABLE.get(s.substring(i, i + 1));
                len = 1;
            }
            if (hit == null) return null;
            out.add(new Mora(hit[0], hit[1], Mora.Kind.PLAIN));
            i += len;
        }
        return out;
    }

    private static String expandIterationMarks(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 'ヽ' || c == 'ヾ') {
                if (b.length() == 0) return null;
                char prev = b.charAt(b.length() - 1);
                b.append(c == 'ヾ' ? voiced(prev) : prev);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The voiced kana of an unvoiced one (カ → ガ, ハ → バ, ウ → ヴ), or the kana itself. */
    private static char voiced(char c) {
        if ("カキクケコサシスセソタチツテトハヒフヘホ".indexOf(c) >= 0) return (char) (c + 1);
        if (c == 'ウ') return 'ヴ';
        return c;
    }
}
