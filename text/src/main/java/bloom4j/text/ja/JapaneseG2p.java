package bloom4j.text.ja;

import org.apache.lucene.analysis.ja.JapaneseTokenizer;
import org.apache.lucene.analysis.ja.tokenattributes.PartOfSpeechAttribute;
import org.apache.lucene.analysis.ja.tokenattributes.ReadingAttribute;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Japanese text to phones with OpenJTalk's phone set, on Kuromoji's IPADIC analysis (Apache Lucene's
 * {@code lucene-analysis-kuromoji}, the maintained Kuromoji; NORMAL mode): each word's pronunciation field (発音, which already
 * writes long vowels as {@code ー} and the particles は/へ as ワ/エ) split into morae by {@link KanaPhones}.
 *
 * <p>Per sentence: width normalisation (NFKC), numbers read by {@link JapaneseNumbers}, sentence ends {@code 。．！？!?…},
 * pauses {@code 、，,・} (sentence ends too when {@link Options#commaEndsSentence}, as in lyrics), brackets and quotes removed.
 * A word without a pronunciation is read from its surface when it is all kana; else each kanji is looked up alone; else it is
 * recorded as out of vocabulary and skipped, never passed through. Optional devoicing follows OpenJTalk's rule approximately: the
 * vowel of {@code C i}/{@code C u} with a voiceless consonant before another voiceless consonant (or {@code cl} + voiceless) is
 * written {@code I}/{@code U}, as is the final す of です/ます; never two morae in a row.
 *
 * <p>Dictionary differences (IPADIC here, NAIST-jdic in OpenJTalk) make a few words differ from pyopenjtalk; a model must be
 * trained and run with the same front end. Thread-safe: each call makes its own tokenizer.
 */
public final class JapaneseG2p {

    /** Switches of the front end. */
    public record Options(boolean devoice, boolean commaEndsSentence) {
        /** Lyrics for SongBloom: no devoicing (sung vowels are voiced), a comma ends a sentence. */
        public static Options lyrics() { return new Options(false, true); }

        /** Speech text: pauses at commas, devoicing as the caller says. */
        public static Options speech(boolean devoice) { return new Options(devoice, false); }
    }

    /** Phones of one sentence; {@code pau} marks a pause inside it. */
    public record Sentence(List<String> phones, boolean question) { }

    /** Sentences and the words that could not be read (surface → count). */
    public record Result(List<Sentence> sentences, Map<String, Integer> oov) {
        /** All phones, sentences separated by nothing (for display). */
        public List<String> phones() {
            List<String> all = new ArrayList<>();
            for (Sentence s : sentences) all.addAll(s.phones());
            return all;
        }
    }

    public static final String PAUSE = "pau";
    private static final String SENTENCE_END = "。．！？!?…";
    private static final String PAUSES = "、，,・";
    private static final String REMOVED = "「」『』（）()【】〈〉《》\"'“”‘’";
    private static final Set<String> VOICELESS = Set.of("k", "ky", "s", "sh", "t", "ch", "ts", "h", "hy", "f", "p", "py");

    private JapaneseG2p() {}

    /** Whether {@code c} is Japanese script: kana, CJK ideographs, 々 〆 ヶ. */
    public static boolean isJapanese(char c) {
        return KanaPhones.isKana(c) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || c == '々' || c == '〆'
                || c == 'ヶ';
    }

    /** Whether {@code c} is kana (the sign that text is Japanese rather than Chinese). */
    public static boolean hasKana(String s) {
        for (int i = 0; i < s.length(); i++) if (KanaPhones.isKana(s.charAt(i)) && s.charAt(i) != 'ー') return true;
        return false;
    }

    public static Result g2p(String text, Options options) {
        String t = Normalizer.normalize(text, Normalizer.Form.NFKC);   // full-width ASCII and half-width katakana
        t = t.replace('〜', 'ー').replace('～', 'ー');
        t = JapaneseNumbers.replaceAll(t);
        List<Sentence> sentences = new ArrayList<>();
        Map<String, Integer> oov = new LinkedHashMap<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i <= t.length(); i++) {
            char c = i < t.length() ? t.charAt(i) : '。';
            boolean end = SENTENCE_END.indexOf(c) >= 0 || (options.commaEndsSentence() && PAUSES.indexOf(c) >= 0 && c != '・');
            if (end) {
                Sentence s = sentence(current.toString(), c == '?' || c == '？', options, oov);
                if (!s.phones().isEmpty()) sentences.add(s);
                current.setLength(0);
            } else if (REMOVED.indexOf(c) < 0) {
                current.append(c);
            }
        }
        return new Result(List.copyOf(sentences), oov);
    }

    /** A token of the analysis: surface, part of speech (IPADIC, '-'-joined levels) and pronunciation (null when unknown). */
    private record Word(String surface, String pos, String pronunciation) { }

    private static List<Word> analyse(String text) {
        List<Word> out = new ArrayList<>();
        try (JapaneseTokenizer t = new JapaneseTokenizer(null, false, JapaneseTokenizer.Mode.NORMAL)) {
            CharTermAttribute term = t.addAttribute(CharTermAttribute.class);
            ReadingAttribute reading = t.addAttribute(ReadingAttribute.class);
            PartOfSpeechAttribute pos = t.addAttribute(PartOfSpeechAttribute.class);
            t.setReader(new StringReader(text));
            t.reset();
            while (t.incrementToken()) out.add(new Word(term.toString(), pos.getPartOfSpeech(), reading.getPronunciation()));
            t.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static Sentence sentence(String text, boolean question, Options options, Map<String, Integer> oov) {
        String compact = text.replaceAll("\\s+", "");
        List<KanaPhones.Mora> morae = new ArrayList<>();
        List<Boolean> politeSu = new ArrayList<>();   // per mora: the final す of です/ます
        if (!compact.isEmpty()) {
            for (Word w : analyse(compact)) {
                if (w.pos() != null && w.pos().startsWith("記号")) {
                    if (PAUSES.indexOf(w.surface().charAt(0)) >= 0 && !morae.isEmpty()) {
                        morae.add(null);   // a pause position
                        politeSu.add(false);
                    }
                    continue;
                }
                List<KanaPhones.Mora> m = read(w, oov);
                if (m == null) continue;
                boolean polite = w.pos() != null && w.pos().startsWith("助動詞") && (w.surface().equals("です") || w.surface().equals("ます"));
                for (int i = 0; i < m.size(); i++) {
                    morae.add(m.get(i));
                    politeSu.add(polite && i == m.size() - 1);
                }
            }
        }
        while (!morae.isEmpty() && morae.get(morae.size() - 1) == null) {
            morae.remove(morae.size() - 1);
            politeSu.remove(politeSu.size() - 1);
        }
        String[] vowels = new String[morae.size()];
        for (int i = 0; i < vowels.length; i++) vowels[i] = morae.get(i) == null ? null : morae.get(i).vowel();
        if (options.devoice()) devoice(morae, politeSu, vowels);
        List<String> phones = new ArrayList<>();
        for (int i = 0; i < morae.size(); i++) {
            KanaPhones.Mora m = morae.get(i);
            if (m == null) {
                phones.add(PAUSE);
                continue;
            }
            if (m.consonant() != null) phones.add(m.consonant());
            phones.add(vowels[i]);
        }
        return new Sentence(List.copyOf(phones), question);
    }

    /** A word's morae from its pronunciation, its kana surface, or its kanji one by one; null (and an OOV entry) otherwise. */
    private static List<KanaPhones.Mora> read(Word w, Map<String, Integer> oov) {
        String p = w.pronunciation();
        if (p != null && !p.isEmpty() && !p.equals("*")) {
            List<KanaPhones.Mora> m = KanaPhones.morae(p);
            if (m != null) return m;
        }
        String surface = w.surface();
        boolean allKana = !surface.isEmpty() && surface.chars().allMatch(c -> KanaPhones.isKana((char) c));
        if (allKana) {
            List<KanaPhones.Mora> m = KanaPhones.morae(KanaPhones.katakana(surface));
            if (m != null) return m;
        } else if (surface.chars().anyMatch(c -> isJapanese((char) c))) {
            List<KanaPhones.Mora> all = new ArrayList<>();
            boolean ok = true;
            for (int i = 0; i < surface.length() && ok; i++) {
                String ch = surface.substring(i, i + 1);
                List<Word> one = KanaPhones.isKana(ch.charAt(0)) ? List.of(new Word(ch, "", KanaPhones.katakana(ch))) : analyse(ch);
                if (one.size() != 1 || one.get(0).pronunciation() == null) {
                    ok = false;
                    break;
                }
                List<KanaPhones.Mora> m = KanaPhones.morae(one.get(0).pronunciation());
                if (m == null) ok = false;
                else all.addAll(m);
            }
            if (ok) return all;
        }
        oov.merge(surface, 1, Integer::sum);
        return null;
    }

    private static void devoice(List<KanaPhones.Mora> morae, List<Boolean> politeSu, String[] vowels) {
        boolean previousDevoiced = false;
        for (int i = 0; i < morae.size(); i++) {
            KanaPhones.Mora m = morae.get(i);
            boolean candidate = m != null && m.consonant() != null && VOICELESS.contains(m.consonant())
                    && (m.vowel().equals("i") || m.vowel().equals("u"));
            boolean devoiced = false;
            if (candidate && !previousDevoiced) {
                KanaPhones.Mora next = i + 1 < morae.size() ? morae.get(i + 1) : null;
                boolean beforeVoiceless = next != null && (next.consonant() != null && VOICELESS.contains(next.consonant())
                        || next.kind() == KanaPhones.Mora.Kind.GEMINATE && i + 2 < morae.size() && morae.get(i + 2) != null
                        && morae.get(i + 2).consonant() != null && VOICELESS.contains(morae.get(i + 2).consonant()));
                boolean finalSu = politeSu.get(i) && next == null;
                devoiced = beforeVoiceless || finalSu;
            }
            if (devoiced) vowels[i] = vowels[i].toUpperCase(java.util.Locale.ROOT);
            previousDevoiced = devoiced;
        }
    }
}
