package bloom4j.text.zh;

import com.hankcs.hanlp.HanLP;
import com.hankcs.hanlp.dictionary.CoreDictionary;
import com.hankcs.hanlp.dictionary.py.Pinyin;
import com.hankcs.hanlp.seg.common.Term;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Mandarin text to SongBloom's phones the way its {@code G2P_Mix} writes them (tencent-ailab/SongBloom@ef78022
 * {@code SongBloom/g2p/cn_zh_g2p/chinese.py}): words segmented with part of speech, pinyin per word with tone, the tone sandhi of
 * {@code tone_sandhi.py} (PaddleSpeech's), and each syllable as an initial and a final with its tone in the opencpop-strict
 * convention ({@code ni3 → n i3}, {@code shi4 → sh ir4}, {@code zi → z i0}, {@code ai → AA ai}, {@code ju → j v},
 * {@code yan → y En}).
 *
 * <p>Segmentation and pinyin come from HanLP (portable 1.8.4) where upstream uses jieba and pypinyin, so a few words segment or
 * read differently. The sandhi rules are those of {@code tone_sandhi.py} (不 and 一 sandhi, third-tone sandhi with its word merging,
 * reduplication and particle neutral tones, measure-word 个); its two lists of words that must or must not take a neutral tone
 * are not reproduced: HanLP's own pinyin dictionary supplies the neutral tones it knows. Digits are read as Chinese numbers,
 * Chinese punctuation becomes {@code , . ! ?}, other characters (Latin letters included) are dropped and reported.
 */
public final class ChineseG2p {
    private ChineseG2p() {}

    /** The phones and the pieces that could not be read (text → count). */
    public record Result(List<String> phones, Map<String, Integer> oov) { }

    private static final Map<Character, String> PUNCT = Map.ofEntries(Map.entry('：', ","), Map.entry('；', ","), Map.entry('，', ","),
            Map.entry('。', "."), Map.entry('！', "!"), Map.entry('？', "?"), Map.entry('·', ","), Map.entry('、', ","),
            Map.entry(',', ","), Map.entry('.', "."), Map.entry('!', "!"), Map.entry('?', "?"), Map.entry('—', "-"), Map.entry('-', "-"));
    private static final String PARTICLES = "吧呢哈啊呐噻嘛吖嗨呐哦哒额滴哩哟喽啰耶喔诶";

    /** Whether {@code c} is a CJK ideograph (the range upstream keeps, U+4E00–U+9FA5). */
    public static boolean isHan(char c) { return c >= 0x4E00 && c <= 0x9FA5; }

    /** A word with its part of speech and one final-with-tone per character (pypinyin FINALS_TONE3 style, "" initial kept apart). */
    private static final class Word {
        String text, pos;

        Word(String text, String pos) {
            this.text = text;
            this.pos = pos;
        }
    }

    public static Result g2p(String text) {
        Map<String, Integer> oov = new LinkedHashMap<>();
        List<String> phones = new ArrayList<>();
        for (Item it : read(text, oov, false)) {
            if (it.source() == null) {
                phones.add(it.text());
                continue;
            }
            String syl = it.text();
            String[] iv = Opencpop.split(syl.substring(0, syl.length() - 1));
            if (iv == null) {
                oov.merge(it.source(), 1, Integer::sum);
                continue;
            }
            phones.add(iv[0]);
            phones.add(iv[1] + syl.charAt(syl.length() - 1));
        }
        return new Result(List.copyOf(phones), oov);
    }

    /**
     * The pinyin the same reading gives, for tokenizers that split syllables their own way (ZipVoice's emilia tokens): each
     * syllable in TONE3 style after the tone sandhi ({@code ni3}, {@code lv4}, neutral {@code 5}), punctuation as {@code , . ! ? -},
     * and, when {@code spaces}, one {@code " "} where the text had whitespace between pieces. Unreadable pieces go to the oov map.
     */
    public static Result pinyin(String text, boolean spaces) {
        Map<String, Integer> oov = new LinkedHashMap<>();
        List<String> out = new ArrayList<>();
        for (Item it : read(text, oov, spaces)) out.add(it.text());
        return new Result(List.copyOf(out), oov);
    }

    /** A syllable with tone digit and the character it reads ({@code source}), or punctuation/space ({@code source} null). */
    private record Item(String text, String source) { }

    private static List<Item> read(String text, Map<String, Integer> oov, boolean spaces) {
        List<Item> items = new ArrayList<>();
        StringBuilder run = new StringBuilder();
        StringBuilder dropped = new StringBuilder();
        String t = ChineseNumbers.replaceAll(text.replace("嗯", "恩").replace("呣", "母"));
        for (int i = 0; i <= t.length(); i++) {
            char c = i < t.length() ? t.charAt(i) : 0;
            if (c != 0 && isHan(c)) {
                flush(dropped, oov);
                run.append(c);
                continue;
            }
            if (run.length() > 0) {
                sentence(run.toString(), items, oov);
                run.setLength(0);
            }
            if (c == 0) break;
            String p = PUNCT.get(c);
            if (p != null) {
                flush(dropped, oov);
                items.add(new Item(p, null));
            } else if (Character.isWhitespace(c)) {
                flush(dropped, oov);
                if (spaces && !items.isEmpty() && !items.get(items.size() - 1).text().equals(" ")) items.add(new Item(" ", null));
            } else {
                dropped.append(c);
            }
        }
        flush(dropped, oov);
        return items;
    }

    private static void flush(StringBuilder dropped, Map<String, Integer> oov) {
        if (dropped.length() > 0) oov.merge(dropped.toString(), 1, Integer::sum);
        dropped.setLength(0);
    }

    private static void sentence(String han, List<Item> items, Map<String, Integer> oov) {
        List<Word> seg = new ArrayList<>();
        for (Term term : HanLP.segment(han)) seg.add(new Word(term.word, term.nature == null ? "x" : term.nature.toString()));
        Map<String, List<Pinyin>> pinyin = new java.util.HashMap<>();   // one dictionary lookup per distinct word of the sentence
        seg = preMerge(seg, pinyin);
        for (Word w : seg) {
            List<Pinyin> py = pinyin.computeIfAbsent(w.text, HanLP::convertToPinyinList);
            String[] syl = new String[w.text.length()];
            String[] finals = new String[w.text.length()];
            boolean ok = py.size() == w.text.length();
            for (int i = 0; ok && i < syl.length; i++) {
                Pinyin p = py.get(i);
                if (p == Pinyin.none5) {
                    ok = false;
                    break;
                }
                String s = p.toString();
                syl[i] = s.substring(0, s.length() - 1);
                finals[i] = "x" + s.charAt(s.length() - 1);   // only the tone digit matters to the sandhi rules
            }
            if (!ok) {
                oov.merge(w.text, 1, Integer::sum);
                continue;
            }
            finals = modifiedTone(w.text, w.pos, finals);
            for (int i = 0; i < syl.length; i++) {
                items.add(new Item(syl[i] + finals[i].charAt(finals[i].length() - 1), w.text.substring(i, i + 1)));
            }
        }
    }

    // ---- tone sandhi (tone_sandhi.py), over per-character tone strings whose last character is the tone digit ----

    private static char tone(String f) { return f.charAt(f.length() - 1); }

    private static String withTone(String f, char t) { return f.substring(0, f.length() - 1) + t; }

    private static String[] tones(String word, Map<String, List<Pinyin>> pinyin) {
        List<Pinyin> py = pinyin.computeIfAbsent(word, HanLP::convertToPinyinList);
        String[] out = new String[py.size()];
        for (int i = 0; i < out.length; i++) out[i] = "x" + py.get(i).getTone();
        return out;
    }

    private static boolean allThree(String[] f) {
        for (String s : f) if (tone(s) != '3') return false;
        return f.length > 0;
    }

    private static List<Word> preMerge(List<Word> seg, Map<String, List<Pinyin>> pinyin) {
        // 不 joins the next word
        List<Word> a = new ArrayList<>();
        String last = "";
        for (Word w : seg) {
            Word x = last.equals("不") ? new Word("不" + w.text, w.pos) : w;
            if (!x.text.equals("不")) a.add(x);
            last = x.text;
        }
        if (last.equals("不")) a.add(new Word("不", "d"));
        // V 一 V becomes one word; then 一 joins the next word
        List<Word> b = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            Word w = a.get(i);
            if (i >= 1 && w.text.equals("一") && i + 1 < a.size() && a.get(i - 1).text.equals(a.get(i + 1).text)
                    && a.get(i - 1).pos.startsWith("v") && a.get(i + 1).pos.startsWith("v")) {
                Word prev = b.get(b.size() - 1);
                prev.text = prev.text + "一" + prev.text;
            } else if (!(i >= 2 && a.get(i - 1).text.equals("一") && a.get(i - 2).text.equals(w.text) && w.pos.startsWith("v"))) {
                b.add(new Word(w.text, w.pos));
            }
        }
        List<Word> c = new ArrayList<>();
        for (Word w : b) {
            if (!c.isEmpty() && c.get(c.size() - 1).text.equals("一")) c.get(c.size() - 1).text += w.text;
            else c.add(w);
        }
        // reduplication
        List<Word> d = new ArrayList<>();
        for (Word w : c) {
            if (!d.isEmpty() && d.get(d.size() - 1).text.equals(w.text)) d.get(d.size() - 1).text += w.text;
            else d.add(w);
        }
        d = mergeThree(d, true, pinyin);
        d = mergeThree(d, false, pinyin);
        // 儿 joins the previous word
        List<Word> e = new ArrayList<>();
        for (Word w : d) {
            if (!e.isEmpty() && w.text.equals("儿")) e.get(e.size() - 1).text += w.text;
            else e.add(w);
        }
        return e;
    }

    /** Merges neighbouring words of third tones (all of them, or the boundary pair) when at most three characters result. */
    private static List<Word> mergeThree(List<Word> seg, boolean whole, Map<String, List<Pinyin>> pinyin) {
        List<String[]> f = new ArrayList<>();
        for (Word w : seg) f.add(tones(w.text, pinyin));
        List<Word> out = new ArrayList<>();
        boolean[] merged = new boolean[seg.size()];
        for (int i = 0; i < seg.size(); i++) {
            Word w = seg.get(i);
            boolean cond = i >= 1 && f.get(i - 1).length > 0 && f.get(i).length > 0 && !merged[i - 1] && (whole
                    ? allThree(f.get(i - 1)) && allThree(f.get(i))
                    : tone(f.get(i - 1)[f.get(i - 1).length - 1]) == '3' && tone(f.get(i)[0]) == '3');
            String prev = i >= 1 ? seg.get(i - 1).text : "";
            boolean redup = prev.length() == 2 && prev.charAt(0) == prev.charAt(1);
            if (cond && !redup && prev.length() + w.text.length() <= 3) {
                out.get(out.size() - 1).text += w.text;
                merged[i] = true;
            } else {
                out.add(new Word(w.text, w.pos));
            }
        }
        return out;
    }

    static String[] modifiedTone(String word, String pos, String[] finals) {
        String[] f = finals.clone();
        bu(word, f);
        yi(word, f);
        neutral(word, pos, f);
        three(word, f);
        return f;
    }

    private static void bu(String word, String[] f) {
        if (word.length() == 3 && word.charAt(1) == '不') {
            f[1] = withTone(f[1], '5');
        } else {
            for (int i = 0; i + 1 < word.length(); i++) if (word.charAt(i) == '不' && tone(f[i + 1]) == '4') f[i] = withTone(f[i], '2');
        }
    }

    private static boolean numeric(char c) { return Character.isDigit(c) || "零〇一二三四五六七八九十百千万亿两".indexOf(c) >= 0; }

    private static void yi(String word, String[] f) {
        if (word.indexOf('一') < 0) return;
        boolean numberSequence = true;
        for (char c : word.toCharArray()) if (c != '一' && !numeric(c)) numberSequence = false;
        if (numberSequence) return;
        if (word.length() == 3 && word.charAt(1) == '一' && word.charAt(0) == word.charAt(2)) {
            f[1] = withTone(f[1], '5');
        } else if (word.startsWith("第一")) {
            f[1] = withTone(f[1], '1');
        } else {
            for (int i = 0; i + 1 < word.length(); i++) {
                if (word.charAt(i) != '一') continue;
                f[i] = withTone(f[i], tone(f[i + 1]) == '4' ? '2' : '4');
            }
        }
    }

    private static final Set<String> ASPECT = Set.of("ul", "uz", "ug", "ule", "uzhe", "uguo");

    private static void neutral(String word, String pos, String[] f) {
        int n = word.length();
        char p0 = pos.isEmpty() ? 'x' : pos.charAt(0);
        for (int j = 1; j < n; j++) {
            if (word.charAt(j) == word.charAt(j - 1) && (p0 == 'n' || p0 == 'v' || p0 == 'a')) f[j] = withTone(f[j], '5');
        }
        int ge = word.indexOf('个');
        char lastChar = word.charAt(n - 1);
        if (PARTICLES.indexOf(lastChar) >= 0 || "的地得".indexOf(lastChar) >= 0) {
            f[n - 1] = withTone(f[n - 1], '5');
        } else if (n == 1 && "了着过".indexOf(lastChar) >= 0 && ASPECT.contains(pos)) {
            f[n - 1] = withTone(f[n - 1], '5');
        } else if (n > 1 && "们子".indexOf(lastChar) >= 0 && (pos.equals("r") || pos.equals("n"))) {
            f[n - 1] = withTone(f[n - 1], '5');
        } else if (n > 1 && "上下里".indexOf(lastChar) >= 0 && (pos.equals("s") || pos.equals("l") || pos.equals("f"))) {
            f[n - 1] = withTone(f[n - 1], '5');
        } else if (n > 1 && "来去".indexOf(lastChar) >= 0 && "上下进出回过起开".indexOf(word.charAt(n - 2)) >= 0) {
            f[n - 1] = withTone(f[n - 1], '5');
        } else if ((ge >= 1 && (numeric(word.charAt(ge - 1)) || "几有两半多各整每做是".indexOf(word.charAt(ge - 1)) >= 0))
                || word.equals("个")) {
            f[ge] = withTone(f[ge], '5');
        }
    }

    /** The shorter first sub-word of a three-character word: its first two characters when they are a dictionary word. */
    private static int firstPart(String word) {
        return CoreDictionary.contains(word.substring(0, 2)) ? 2 : 1;
    }

    private static void three(String word, String[] f) {
        int n = word.length();
        if (n == 2 && allThree(f)) {
            f[0] = withTone(f[0], '2');
        } else if (n == 3) {
            int k = firstPart(word);
            if (allThree(f)) {
                if (k == 2) {
                    f[0] = withTone(f[0], '2');
                    f[1] = withTone(f[1], '2');
                } else {
                    f[1] = withTone(f[1], '2');
                }
            } else {
                String[] a = java.util.Arrays.copyOfRange(f, 0, k), b = java.util.Arrays.copyOfRange(f, k, n);
                String[][] parts = {a, b};
                for (int i = 0; i < 2; i++) {
                    String[] sub = parts[i];
                    if (allThree(sub) && sub.length == 2) sub[0] = withTone(sub[0], '2');
                    else if (i == 1 && !allThree(sub) && tone(sub[0]) == '3' && tone(a[a.length - 1]) == '3') {
                        a[a.length - 1] = withTone(a[a.length - 1], '2');
                    }
                }
                System.arraycopy(a, 0, f, 0, k);
                System.arraycopy(b, 0, f, k, n - k);
            }
        } else if (n == 4) {
            for (int s = 0; s < 4; s += 2) {
                String[] sub = {f[s], f[s + 1]};
                if (allThree(sub)) f[s] = withTone(f[s], '2');
            }
        }
    }
}
