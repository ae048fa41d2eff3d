package bloom4j.text.zh;

import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pinyin syllable (no tone; ü written v) as opencpop-strict's initial and final, the pair SongBloom's vocabulary holds
 * (tencent-ailab/SongBloom@ef78022 {@code SongBloom/g2p/cn_zh_g2p/opencpop-strict.txt}): the written initial and the rest, except
 * that a syllable without initial starting with a/o/e takes {@code AA}/{@code OO}/{@code EE}, the apical vowels are {@code ir}
 * (zhi chi shi ri) and {@code i0} (zi ci si), u after j/q/x and in yu- is {@code v}, and yan/ye read {@code y En}/{@code y E}.
 */
public final class Opencpop {
    private Opencpop() {}

    private static final Pattern SYLLABLE = Pattern.compile("^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?([a-z]+)$");
    private static final Set<String> FINALS = Set.of("a", "ai", "an", "ang", "ao", "e", "ei", "en", "eng", "er", "i", "ia", "ian",
            "iang", "iao", "ie", "in", "ing", "iong", "iu", "o", "ong", "ou", "u", "ua", "uai", "uan", "uang", "ui", "un", "uo", "v",
            "van", "ve", "vn", "ue", "uen", "En", "E", "ir", "i0");
    private static final Map<String, String[]> SPECIAL = Map.ofEntries(
            Map.entry("zhi", new String[] {"zh", "ir"}), Map.entry("chi", new String[] {"ch", "ir"}),
            Map.entry("shi", new String[] {"sh", "ir"}), Map.entry("ri", new String[] {"r", "ir"}),
            Map.entry("zi", new String[] {"z", "i0"}), Map.entry("ci", new String[] {"c", "i0"}), Map.entry("si", new String[] {"s", "i0"}),
            Map.entry("yan", new String[] {"y", "En"}), Map.entry("ye", new String[] {"y", "E"}), Map.entry("yu", new String[] {"y", "v"}),
            Map.entry("yuan", new String[] {"y", "van"}), Map.entry("yue", new String[] {"y", "ve"}), Map.entry("yun", new String[] {"y", "vn"}));

    /** {initial, final} of a toneless syllable, or null if it is not pinyin. */
    public static String[] split(String syllable) {
        String s = syllable.replace("ü", "v").replace("u:", "v");
        String[] sp = SPECIAL.get(s);
        if (sp != null) return sp.clone();
        Matcher m = SYLLABLE.matcher(s);
        if (!m.matches()) return null;
        String ini = m.group(1), fin = m.group(2);
        if (ini == null) {
            if (!FINALS.contains(fin)) return null;
            char c = fin.charAt(0);
            return c == 'a' ? new String[] {"AA", fin} : c == 'o' ? new String[] {"OO", fin} : c == 'e' ? new String[] {"EE", fin} : null;
        }
        if ((ini.equals("j") || ini.equals("q") || ini.equals("x")) && fin.startsWith("u")) fin = "v" + fin.substring(1);
        if (fin.equals("ve") || fin.equals("v") || fin.equals("van") || fin.equals("vn") || FINALS.contains(fin)) return new String[] {ini, fin};
        return null;
    }
}
