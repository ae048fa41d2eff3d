package bloom4j.text.zipvoice;

import bloom4j.text.en.EnglishIpa;
import bloom4j.text.ja.JapaneseG2p;
import bloom4j.text.zh.ChineseG2p;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text to ZipVoice token strings, after upstream's {@code EmiliaTokenizer} (k2-fsa/ZipVoice@2f7326f
 * {@code zipvoice/tokenizer/tokenizer.py} L201-500) for Chinese and English, with Japanese added:
 * <ul>
 *   <li><b>Japanese</b> ({@code --lang ja}, or any kana with {@code auto}): bloom4j's Kuromoji G2P onto the phones of the extended
 *       389-token table ({@link ZipVoiceJapaneseTokens}); never through the Chinese/English splitter, which would read kanji as
 *       Mandarin and drop kana.</li>
 *   <li>otherwise the emilia segmentation: punctuation mapped to ASCII; pieces {@code <pinyin>} and {@code [tag]} kept whole; CJK
 *       (U+4E00–U+9FA5) runs as Chinese, ASCII-letter runs as English, anything else joined to the run before it.
 *       <b>Chinese</b>: {@link ChineseG2p#pinyin} (HanLP segmentation and pinyin, tone sandhi, neutral tone 5) and each syllable as
 *       {@code initial + "0"} and {@code final + tone} (pypinyin's non-strict initials, so {@code y}/{@code w} are initials);
 *       <b>English</b>: {@link EnglishIpa} (espeak-ng style IPA, one token per code point); a {@code [tag]} is one token;
 *       {@code <chang2>} forces a reading.</li>
 * </ul>
 * What cannot be read is reported in {@link Result#oov} (upstream skips it with a log line).
 */
public final class ZipVoiceTokenizer {
    private ZipVoiceTokenizer() {}

    public enum Lang {
        AUTO, JA, ZH, EN;

        public static Lang parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "ja" -> JA;
                case "zh" -> ZH;
                case "en", "en-us" -> EN;
                default -> throw new IllegalArgumentException("--lang must be auto, ja, zh or en, got '" + s + "'");
            };
        }
    }

    /** Token strings, what could not be read (piece → count) and the language used ("ja" or "zh/en"). */
    public record Result(List<String> tokens, Map<String, Integer> oov, String language) { }

    private static final Pattern PART = Pattern.compile("[<\\[].*?[>\\]]|.", Pattern.DOTALL);
    private static final Pattern SPLIT = Pattern.compile("([<\\[].*?[>\\]])");
    private static final Pattern SYLLABLE = Pattern.compile("[a-zü]+[1-5]");
    private static final String[] INITIALS = {"zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x",
            "r", "z", "c", "s", "y", "w"};

    public static Result tokens(String text, Lang lang, boolean devoice) {
        if (lang == Lang.JA || (lang == Lang.AUTO && JapaneseG2p.hasKana(text))) {
            JapaneseG2p.Result r = JapaneseG2p.g2p(text, JapaneseG2p.Options.speech(devoice));
            return new Result(ZipVoiceJapaneseTokens.tokens(r), r.oov(), "ja");
        }
        String t = mapPunctuation(text);
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> oov = new LinkedHashMap<>();
        for (String[] seg : segments(t)) {
            switch (seg[1]) {
                case "zh" -> {
                    ChineseG2p.Result r = ChineseG2p.pinyin(seg[0], true);
                    for (String p : r.phones()) {
                        if (SYLLABLE.matcher(p).matches()) tokens.addAll(separate(p));
                        else tokens.add(p);
                    }
                    r.oov().forEach((k, v) -> oov.merge(k, v, Integer::sum));
                }
                case "en" -> {
                    EnglishIpa.Result r = EnglishIpa.tokens(seg[0]);
                    tokens.addAll(r.tokens());
                    r.oov().forEach((k, v) -> oov.merge(k, v, Integer::sum));
                }
                case "pinyin" -> {
                    String p = seg[0].substring(1, seg[0].length() - 1);
                    if (SYLLABLE.matcher(p).matches()) tokens.addAll(separate(p));
                    else oov.merge(seg[0], 1, Integer::sum);
                }
                case "tag" -> tokens.add(seg[0]);
                default -> {
                    if (!seg[0].isBlank()) oov.merge(seg[0].strip(), 1, Integer::sum);
                }
            }
        }
        return new Result(List.copyOf(tokens), oov, "zh/en");
    }

    /** A TONE3 syllable as {@code initial0} and {@code final+tone}; either may be absent ({@code er2}). */
    static List<String> separate(String syllable) {
        List<String> out = new ArrayList<>(2);
        for (String i : INITIALS) {
            if (syllable.startsWith(i) && syllable.length() > i.length() + 1) {
                out.add(i + "0");
                out.add(syllable.substring(i.length()));
                return out;
            }
        }
        out.add(syllable);
        return out;
    }

    /** {@code map_punctuations}: full-width punctuation to ASCII. */
    static String mapPunctuation(String t) {
        return t.replace("，", ",").replace("。", ".").replace("！", "!").replace("？", "?").replace("；", ";").replace("：", ":")
                .replace("、", ",").replace("‘", "'").replace("“", "\"").replace("”", "\"").replace("’", "'").replace("⋯", "…")
                .replace("···", "…").replace("・・・", "…").replace("...", "…");
    }

    /** {@code get_segment} + {@code split_segments}: {text, type} with type zh, en, pinyin, tag or other. */
    static List<String[]> segments(String text) {
        List<String> parts = new ArrayList<>();
        Matcher m = PART.matcher(text);
        while (m.find()) parts.add(m.group());
        List<String[]> segs = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        String lang = "";
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i), type = type(p);
            if (i == 0) {
                cur.append(p);
                lang = type;
            } else if (lang.equals("other")) {
                cur.append(p);
                lang = type;
            } else if (type.equals(lang) || type.equals("other")) {
                cur.append(p);
            } else {
                segs.add(new String[] {cur.toString(), lang});
                cur = new StringBuilder(p);
                lang = type;
            }
        }
        if (!parts.isEmpty()) segs.add(new String[] {cur.toString(), lang});
        List<String[]> out = new ArrayList<>();
        for (String[] s : segs) {
            Matcher sm = SPLIT.matcher(s[0]);
            int last = 0;
            while (sm.find()) {
                if (sm.start() > last) out.add(new String[] {s[0].substring(last, sm.start()), s[1]});
                String g = sm.group();
                out.add(new String[] {g, g.startsWith("<") && g.endsWith(">") ? "pinyin" : g.startsWith("[") && g.endsWith("]") ? "tag" : s[1]});
                last = sm.end();
            }
            if (last < s[0].length()) out.add(new String[] {s[0].substring(last), s[1]});
        }
        return out;
    }

    private static String type(String part) {
        if (part.startsWith("<") && part.endsWith(">") && part.length() > 1) return "zh";
        if (part.length() == 1) {
            char c = part.charAt(0);
            if (ChineseG2p.isHan(c)) return "zh";
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return "en";
        }
        return "other";
    }
}
