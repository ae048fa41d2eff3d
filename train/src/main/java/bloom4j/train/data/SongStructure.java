package bloom4j.train.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SongBloom's structure tags from where the voice sings (the seed fork invented three [intro], alternating verse/chorus and two
 * [outro], unrelated to the audio): the time before the first active frame is {@code [intro]}, after the last {@code [outro]},
 * internal silences of at least 3 s {@code [inst]}, each repeated {@code max(1, round(seconds / tagSeconds))} times (none for a
 * region shorter than half a tag); the phrases between non-vocal regions form the vocal sections, a section whose text equals
 * another's is {@code [chorus]} (both), the others {@code [verse]}; at most 49 sentences per section (the sentence-position table
 * has 50 rows), longer ones are split under the same label. Result:
 * {@code [intro] [intro] , [verse] さくら さくら。やよいの そらは , [inst] , [chorus] … , [outro]}.
 */
public final class SongStructure {
    private SongStructure() {}

    /** A phrase: start time and its (cleaned) text, which may hold several sentences separated by 。. */
    public record Line(double start, String text) { }

    static final double INST_GAP_S = 3.0;
    static final int MAX_SENTENCES = 49;

    /**
     * @param lines      the song's phrases in time order
     * @param activity   where the voice is active (empty: taken from the phrases themselves, e.g. without an isolated lead)
     * @param duration   the audio's length in seconds
     * @param tagSeconds seconds per non-vocal tag (1 for the 150 s models, 5 for the 240 s one)
     */
    public static String lyric(List<Line> lines, List<VocalActivity.Interval> activity, double duration, double tagSeconds) {
        if (lines.isEmpty()) throw new IllegalArgumentException("no phrase left to build a lyric from");
        double first = activity.isEmpty() ? lines.get(0).start() : activity.get(0).start();
        double last = activity.isEmpty() ? duration : activity.get(activity.size() - 1).end();
        List<double[]> gaps = new ArrayList<>();   // internal instrumental gaps [start, end]
        for (int i = 1; i < activity.size(); i++) {
            double g0 = activity.get(i - 1).end(), g1 = activity.get(i).start();
            if (g1 - g0 >= INST_GAP_S) gaps.add(new double[] {g0, g1});
        }
        // sections of phrases between gaps
        List<List<String>> sections = new ArrayList<>();
        List<double[]> sectionGapAfter = new ArrayList<>();
        int g = 0;
        List<String> cur = new ArrayList<>();
        for (Line l : lines) {
            while (g < gaps.size() && l.start() >= gaps.get(g)[1]) {
                if (!cur.isEmpty()) {
                    sections.add(cur);
                    sectionGapAfter.add(gaps.get(g));
                    cur = new ArrayList<>();
                }
                g++;
            }
            for (String s : l.text().split("。")) if (!s.isBlank()) cur.add(s.strip());
        }
        if (!cur.isEmpty()) {
            sections.add(cur);
            sectionGapAfter.add(null);
        }
        Map<String, Integer> seen = new HashMap<>();
        for (List<String> s : sections) seen.merge(normalise(s), 1, Integer::sum);

        List<String> parts = new ArrayList<>();
        String intro = tags("[intro]", first, tagSeconds);
        if (!intro.isEmpty()) parts.add(intro);
        for (int i = 0; i < sections.size(); i++) {
            List<String> s = sections.get(i);
            String label = seen.get(normalise(s)) > 1 ? "[chorus]" : "[verse]";
            for (int from = 0; from < s.size(); from += MAX_SENTENCES) {
                parts.add(label + " " + String.join("。 ", s.subList(from, Math.min(s.size(), from + MAX_SENTENCES))));
            }
            double[] gap = sectionGapAfter.get(i);
            if (gap != null) {
                String inst = tags("[inst]", gap[1] - gap[0], tagSeconds);
                if (!inst.isEmpty()) parts.add(inst);
            }
        }
        String outro = tags("[outro]", duration - last, tagSeconds);
        if (!outro.isEmpty()) parts.add(outro);
        return String.join(" , ", parts);
    }

    private static String tags(String tag, double seconds, double tagSeconds) {
        if (seconds < tagSeconds / 2) return "";
        int n = Math.max(1, (int) Math.round(seconds / tagSeconds));
        return String.join(" ", java.util.Collections.nCopies(n, tag));
    }

    private static String normalise(List<String> sentences) {
        return bloom4j.text.ja.KanaPhones.katakana(String.join("", sentences).replaceAll("\\s+", "")).toLowerCase(Locale.ROOT);
    }
}
