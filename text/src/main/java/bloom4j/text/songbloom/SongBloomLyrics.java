package bloom4j.text.songbloom;

import bloom4j.text.en.EnglishG2p;
import bloom4j.text.ja.JapaneseG2p;
import bloom4j.text.zh.ChineseG2p;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A structured lyric ({@code [verse] さくら さくら. やよいの そらは. , [chorus] ...}) as SongBloom's phoneme string: tags kept,
 * other text piece by piece as upstream's phoneme mode does (vocabulary symbols kept, Mandarin through {@link ChineseG2p},
 * English through {@link EnglishG2p}),
 * Japanese text run through {@link JapaneseG2p} (lyrics mode: no devoicing, a comma ends a sentence), sentences joined by
 * {@code " . "}, sections by {@code " , "}:
 * {@code [verse] s a k u r a . s a k u r a . y a y o i n o s o r a w a , [chorus] ...}. The caller still checks every token against
 * the vocabulary (an unread word is reported, never passed through).
 *
 * <p>Phones SongBloom's vocabulary lacks are substituted as bloom4j specifies for its Japanese front end: {@code A E O → a e o}
 * (devoiced vowels never occur in lyrics mode), {@code ty → t y}, {@code kw → k w}, {@code gw → g w}, {@code fy → f y}; pauses
 * are dropped. Japanese text never goes through the upstream mixed zh/en splitter, which would send kanji to the Mandarin G2P.
 */
public final class SongBloomLyrics {
    private SongBloomLyrics() {}

    /** The phoneme string, and the words the G2P could not read (surface → count). */
    public record Result(String phonemes, Map<String, Integer> oov) { }

    private static final Pattern TAG = Pattern.compile("\\[[^\\[\\]\\s]+\\]");

    /** The lyric with its structure tags blanked out (the text a G2P reads). */
    public static String withoutTags(String lyric) { return TAG.matcher(lyric).replaceAll(" "); }
    private static final Map<String, List<String>> SUBSTITUTE = Map.of(
            "A", List.of("a"), "E", List.of("e"), "O", List.of("o"), "I", List.of("i"), "U", List.of("u"),
            "ty", List.of("t", "y"), "kw", List.of("k", "w"), "gw", List.of("g", "w"), "fy", List.of("f", "y"));
    private static final Set<String> DROPPED = Set.of(JapaneseG2p.PAUSE, "sil");

    /** Which G2P a lyric's text goes through. */
    public enum Lang {
        /** Kana anywhere → Japanese; else upstream's phoneme mode (symbols kept, Han → Mandarin, Latin → English). */
        AUTO,
        /** Japanese, even for kanji-only text. */
        JA,
        /** Upstream's phoneme mode (G2P_Mix: Mandarin and English) even where kana occur. */
        ZH
    }

    /** Whether a lyric holds Japanese or Chinese script (and so needs a G2P). */
    public static boolean needsG2p(String lyric) {
        for (int i = 0; i < lyric.length(); i++) if (JapaneseG2p.isJapanese(lyric.charAt(i))) return true;
        return false;
    }

    /** The language {@link Lang#AUTO} picks for a lyric: kana means Japanese (never the Mandarin G2P), Han alone Mandarin. */
    public static Lang detect(String lyric) {
        if (JapaneseG2p.hasKana(lyric)) return Lang.JA;
        for (int i = 0; i < lyric.length(); i++) if (ChineseG2p.isHan(lyric.charAt(i))) return Lang.ZH;
        return Lang.AUTO;
    }

    public static Result phonemes(String lyric) { return phonemes(lyric, Lang.AUTO); }

    public static Result phonemes(String lyric, Lang lang) {
        Lang use = lang == Lang.AUTO ? detect(lyric) : lang;
        List<String> out = new ArrayList<>();
        Map<String, Integer> oov = new LinkedHashMap<>();
        Matcher m = TAG.matcher(lyric);
        int pos = 0;
        while (true) {
            boolean found = m.find();
            String text = lyric.substring(pos, found ? m.start() : lyric.length());
            text(text, use, out, oov);
            if (!found) break;
            out.add(m.group());
            pos = m.end();
        }
        // tidy: no separator at the start, none doubled, none at the end
        List<String> tidy = new ArrayList<>();
        for (String t : out) {
            boolean sep = t.equals(".") || t.equals(",");
            String last = tidy.isEmpty() ? null : tidy.get(tidy.size() - 1);
            if (sep && (last == null || last.equals(",") || (last.equals(".") && t.equals(".")))) continue;
            if (sep && t.equals(",") && ".".equals(last)) tidy.set(tidy.size() - 1, ",");
            else tidy.add(t);
        }
        while (!tidy.isEmpty() && tidy.get(tidy.size() - 1).equals(".")) tidy.remove(tidy.size() - 1);
        return new Result(String.join(" ", tidy), oov);
    }

    /**
     * One piece of mixed Mandarin/English text, split as upstream's {@code split_text} (cn_zh_g2p/__init__.py) does: Han runs to the
     * Mandarin G2P, runs of Latin letters, digits and apostrophes to the English G2P, {@code , . ! ? -} as themselves
     * ({@code …} and other marks outside the vocabulary are dropped, as upstream's tokenizer drops them); any other character
     * (kana in this mode, symbols, emoji) is reported as unread.
     */
    private static void mixed(String piece, List<String> out, Map<String, Integer> oov) {
        StringBuilder buf = new StringBuilder(), odd = new StringBuilder();
        int kind = 0;   // 1 Han, 2 Latin
        for (int i = 0; i <= piece.length(); i++) {
            char c = i < piece.length() ? piece.charAt(i) : 0;
            int k = c == 0 ? 0 : ChineseG2p.isHan(c) ? 1 : (c < 0x80 && (Character.isLetterOrDigit(c) || c == '\'')) ? 2 : 0;
            if (k != kind || k == 0) {
                if (buf.length() > 0) {
                    if (kind == 1) {
                        ChineseG2p.Result r = ChineseG2p.g2p(buf.toString());
                        r.oov().forEach((key, v) -> oov.merge(key, v, Integer::sum));
                        out.addAll(r.phones());
                    } else {
                        EnglishG2p.Result r = EnglishG2p.g2p(buf.toString());
                        r.oov().forEach((key, v) -> oov.merge(key, v, Integer::sum));
                        out.addAll(r.phones());
                    }
                    buf.setLength(0);
                }
                kind = k;
            }
            if (c == 0) break;
            if (k != 0) {
                if (odd.length() > 0) {
                    oov.merge(odd.toString(), 1, Integer::sum);
                    odd.setLength(0);
                }
                buf.append(c);
                continue;
            }
            String mark = switch (c) {
                case ',', '，', '、' -> ",";
                case '.', '。' -> ".";
                case '!', '！' -> "!";
                case '?', '？' -> "?";
                case '-', '—' -> "-";
                case '…', '~', '～' -> "";
                default -> null;
            };
            if (mark == null) {
                odd.append(c);
            } else {
                if (odd.length() > 0) {
                    oov.merge(odd.toString(), 1, Integer::sum);
                    odd.setLength(0);
                }
                if (!mark.isEmpty()) out.add(mark);
            }
        }
        if (odd.length() > 0) oov.merge(odd.toString(), 1, Integer::sum);
    }

    /** A run of text between tags: a trailing ',' closes the section; Japanese becomes sentences of phones. */
    private static void text(String raw, Lang lang, List<String> out, Map<String, Integer> oov) {
        String t = raw.strip();
        boolean closes = t.endsWith(",") || t.endsWith("，");
        if (closes) t = t.substring(0, t.length() - 1).strip();
        if (!t.isEmpty()) {
            if (lang != Lang.JA) {
                // upstream's phoneme mode: a piece that is a vocabulary symbol stays; any other piece goes through G2P_Mix,
                // which splits it into Han runs (Mandarin G2P), Latin runs (English G2P) and punctuation
                for (String piece : t.split("\\s+")) {
                    if (piece.isEmpty()) continue;
                    if (SongBloomSymbols.contains(piece)) out.add(piece);
                    else mixed(piece, out, oov);
                }
            } else if (needsG2p(t)) {
                JapaneseG2p.Result r = JapaneseG2p.g2p(t, JapaneseG2p.Options.lyrics());
                r.oov().forEach((k, v) -> oov.merge(k, v, Integer::sum));
                boolean first = true;
                for (JapaneseG2p.Sentence s : r.sentences()) {
                    List<String> phones = new ArrayList<>();
                    for (String p : s.phones()) {
                        if (DROPPED.contains(p)) continue;
                        phones.addAll(SUBSTITUTE.getOrDefault(p, List.of(p)));
                    }
                    if (phones.isEmpty()) continue;
                    if (!first) out.add(".");
                    out.addAll(phones);
                    first = false;
                }
            } else {
                // Japanese mode, a chunk without Japanese script: vocabulary symbols (phonemes, '.', ',') stay, anything else is
                // reported; it never goes to the Mandarin/English G2P
                for (String tok : t.split("\\s+")) {
                    if (tok.isEmpty()) continue;
                    if (SongBloomSymbols.contains(tok)) out.add(tok);
                    else oov.merge(tok, 1, Integer::sum);
                }
            }
        }
        if (closes) out.add(",");
    }
}
