package bloom4j.text.en;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * English text to ARPAbet with stress as SongBloom's G2P writes it (tencent-ailab/SongBloom@ef78022
 * {@code SongBloom/g2p/cn_zh_g2p/english.py}): punctuation mapped, numbers as words, accents stripped, then per word the CMU
 * Pronouncing Dictionary's first pronunciation (shipped as {@code cmudict.tsv.gz}, see its notice), a lone capital {@code A} as
 * {@code EY1}, a possessive {@code 's} after the stem's last phone, and an unknown word of at most three letters spelled letter
 * by letter. Upstream's neural predictor for longer unknown words (g2p_en) and its homograph rules by part of speech are not
 * reproduced: such words are reported as unread, never guessed.
 */
public final class EnglishG2p {
    private EnglishG2p() {}

    /** Phones and unread words (word → count). */
    public record Result(List<String> phones, Map<String, Integer> oov) { }

    private static volatile Map<String, String[]> dict;
    /** Abbreviations upstream removes from the dictionary because their entries read wrongly. */
    private static final Set<String> REMOVED = Set.of("ae", "ai", "ar", "ios", "hud", "os");
    private static final Set<String> VOICELESS = Set.of("P", "T", "K", "F", "TH", "HH");
    private static final Set<String> SIBILANT = Set.of("S", "Z", "SH", "ZH", "CH", "JH");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z]+(?:'[A-Za-z]+)*|[.,?!\\-]");

    static Map<String, String[]> dictionary() {
        Map<String, String[]> d = dict;
        if (d == null) {
            synchronized (EnglishG2p.class) {
                if (dict == null) dict = load();
                d = dict;
            }
        }
        return d;
    }

    private static Map<String, String[]> load() {
        Map<String, String[]> m = new HashMap<>(1 << 18);
        try (InputStream in = EnglishG2p.class.getResourceAsStream("/bloom4j/text/en/cmudict.tsv.gz")) {
            if (in == null) throw new IllegalStateException("resource bloom4j/text/en/cmudict.tsv.gz is missing from the jar");
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                int tab = line.indexOf('\t');
                if (tab > 0) m.put(line.substring(0, tab), line.substring(tab + 1).split(" "));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        REMOVED.forEach(m::remove);
        return m;
    }

    public static Result g2p(String text) {
        Words w = words(text);
        List<String> phones = new ArrayList<>();
        for (List<String> word : w.words()) phones.addAll(word);
        return new Result(List.copyOf(phones), w.oov());
    }

    /** Phones per word, and punctuation ({@code . , ? ! -}) as one-element lists, in text order; unread words are left out. */
    public record Words(List<List<String>> words, Map<String, Integer> oov) { }

    /** The same reading as {@link #g2p}, word by word (for tokenizers that put boundaries between words). */
    public static Words words(String text) {
        String t = text.replaceAll("[;:：，；]", ",").replaceAll("[\"’]", "'").replace("。", ".").replace("！", "!").replace("？", "?");
        t = EnglishNumbers.replaceAll(t);
        t = Normalizer.normalize(t, Normalizer.Form.NFD).replaceAll("\\p{Mn}", "");
        t = t.replaceAll("[^ A-Za-z'.,?!\\-]", "");
        t = t.replaceAll("(?i)i\\.e\\.", "that is").replaceAll("(?i)e\\.g\\.", "for example");
        List<List<String>> words = new ArrayList<>();
        Map<String, Integer> oov = new LinkedHashMap<>();
        Matcher m = TOKEN.matcher(t);
        while (m.find()) {
            String tok = m.group();
            if (!Character.isLetter(tok.charAt(0))) {
                words.add(List.of(tok));
                continue;
            }
            List<String> p = tok.length() == 1 ? (tok.equals("A") ? List.of("EY1") : lookup(tok.toLowerCase(Locale.ROOT))) : word(tok);
            if (p == null) oov.merge(tok, 1, Integer::sum);
            else words.add(List.copyOf(p));
        }
        return new Words(List.copyOf(words), oov);
    }

    private static List<String> lookup(String w) {
        String[] p = dictionary().get(w);
        return p == null ? null : List.of(p);
    }

    private static List<String> word(String original) {
        String w = original.toLowerCase(Locale.ROOT);
        if (w.length() > 1) {
            List<String> p = lookup(w);
            if (p != null) return p;
        }
        if (w.length() <= 3 && w.chars().allMatch(Character::isLetter)) {
            List<String> spelled = new ArrayList<>();
            for (char c : w.toCharArray()) {
                if (c == 'a') {
                    spelled.add("EY1");
                } else {
                    List<String> l = lookup(String.valueOf(c));
                    if (l == null) return null;
                    spelled.addAll(l);
                }
            }
            return spelled;
        }
        if (w.endsWith("'s") && w.length() > 2) {
            List<String> stem = word(w.substring(0, w.length() - 2));
            if (stem == null) return null;
            List<String> out = new ArrayList<>(stem);
            String last = stem.get(stem.size() - 1);
            if (VOICELESS.contains(last)) out.add("S");
            else if (SIBILANT.contains(last)) out.addAll(List.of("AH0", "Z"));
            else out.add("Z");
            return out;
        }
        return null;
    }
}
