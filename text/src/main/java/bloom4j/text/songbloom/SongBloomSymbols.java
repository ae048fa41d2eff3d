package bloom4j.text.songbloom;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The symbols of SongBloom's released lyric vocabulary ({@code vocab_g2p.yaml}, 330 entries, shipped here; the models module's
 * {@code LyricVocabulary} reads the same file for ids). A lyric piece that is a symbol passes the front end unchanged, as in
 * upstream's {@code _process_lyric} (tencent-ailab/SongBloom@ef78022 {@code songbloom_pl.py} L148-160).
 */
public final class SongBloomSymbols {
    private SongBloomSymbols() {}

    public static final String RESOURCE = "/bloom4j/text/songbloom/vocab_g2p.yaml";
    private static volatile List<String> symbols;
    private static volatile Set<String> set;

    /** The entries in file order (a YAML list of strings, single-quoted where needed). */
    public static List<String> list() {
        List<String> s = symbols;
        if (s == null) {
            synchronized (SongBloomSymbols.class) {
                if (symbols == null) {
                    symbols = List.copyOf(read());
                    set = new HashSet<>(symbols);
                }
                s = symbols;
            }
        }
        return s;
    }

    public static boolean contains(String piece) {
        list();
        return set.contains(piece);
    }

    private static List<String> read() {
        List<String> out = new ArrayList<>();
        try (InputStream in = SongBloomSymbols.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " is missing from the jar");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.startsWith("- ")) continue;
                String v = line.substring(2);
                if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) v = v.substring(1, v.length() - 1).replace("''", "'");
                out.add(v);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
