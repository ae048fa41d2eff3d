package bloom4j.text.zipvoice;

import bloom4j.text.ja.JapaneseG2p;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Japanese phones as ids of ZipVoice's extended token table ({@code tokens_japanese_extended.txt} of the ayutaz/ZipVoice fork:
 * ids 0–359 are the released Emilia table, 360–388 the Japanese additions; {@code vocab_size} 389, {@code pad_id} 0): the phones
 * the two tables share keep their Emilia ids ({@code g} is the ASCII letter, 154), {@code fy → f y}, a pause inside the text is
 * {@code pau} (378), nothing ends an utterance, {@code sil} is never emitted. Only the Japanese part is here; the full 389-line
 * file needs the released Emilia table, which comes with a ZipVoice model.
 */
public final class ZipVoiceJapaneseTokens {
    private ZipVoiceJapaneseTokens() {}

    /** Vocabulary size of the extended table. */
    public static final int VOCAB_SIZE = 389;
    /** The space token's id (the line {@code " \t3"} bloom4j keeps, which the fork's file lacks). */
    public static final int SPACE = 3;

    static final Map<String, Integer> IDS = Map.ofEntries(
            Map.entry("a", 14), Map.entry("i", 21), Map.entry("u", 33), Map.entry("e", 18), Map.entry("o", 27), Map.entry("k", 23),
            Map.entry("g", 154), Map.entry("s", 31), Map.entry("z", 38), Map.entry("t", 32), Map.entry("d", 17), Map.entry("n", 26),
            Map.entry("h", 20), Map.entry("b", 15), Map.entry("p", 28), Map.entry("m", 25), Map.entry("y", 37), Map.entry("r", 30),
            Map.entry("w", 35), Map.entry("f", 19), Map.entry("j", 22), Map.entry("v", 34), Map.entry("A", 360), Map.entry("E", 361),
            Map.entry("I", 362), Map.entry("N", 363), Map.entry("O", 364), Map.entry("U", 365), Map.entry("by", 366),
            Map.entry("ch", 367), Map.entry("cl", 368), Map.entry("dy", 369), Map.entry("dz", 370), Map.entry("gw", 371),
            Map.entry("gy", 372), Map.entry("hy", 373), Map.entry("kw", 374), Map.entry("ky", 375), Map.entry("my", 376),
            Map.entry("ny", 377), Map.entry("pau", 378), Map.entry("py", 379), Map.entry("ry", 380), Map.entry("sh", 381),
            Map.entry("sil", 382), Map.entry("ts", 383), Map.entry("ty", 384), Map.entry("[H]", 385), Map.entry("[L]", 386),
            Map.entry("|", 387), Map.entry("[Q]", 388));

    /** Every Japanese phone and mark of the extended table. */
    public static java.util.Set<String> phones() { return IDS.keySet(); }

    /** The id of a Japanese phone or mark, or -1. */
    public static int id(String phone) { return IDS.getOrDefault(phone, -1); }

    /** Phones of a G2P result as ZipVoice tokens: sentences joined by a pause, nothing at the end. */
    public static List<String> tokens(JapaneseG2p.Result r) {
        List<String> out = new ArrayList<>();
        for (JapaneseG2p.Sentence s : r.sentences()) {
            if (!out.isEmpty()) out.add(JapaneseG2p.PAUSE);
            for (String p : s.phones()) {
                if (p.equals("fy")) {
                    out.add("f");
                    out.add("y");
                } else if (!p.equals("sil")) {
                    out.add(p);
                }
            }
        }
        while (!out.isEmpty() && out.get(out.size() - 1).equals(JapaneseG2p.PAUSE)) out.remove(out.size() - 1);
        return out;
    }
}
