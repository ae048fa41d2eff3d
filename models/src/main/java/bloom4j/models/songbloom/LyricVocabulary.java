package bloom4j.models.songbloom;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lyric (phoneme) vocabulary of SongBloom's {@code PhonemeTokenizerConditioner}: a list of strings whose line index is the
 * token id.
 *
 * <p>The released list ({@code vocab_g2p.yaml}, 330 entries, shipped here as the resource
 * {@code bloom4j/text/songbloom/vocab_g2p.yaml} in the text module, byte-identical to the HF file) is: id 0 {@code ''} (the empty token, also the
 * embedding padding row), ids 1-7 the structure tags {@code [verse] [chorus] [bridge] [intro] [outro] [inst] [silence]}, ids 8-329
 * {@code sorted(set(symbols))} of the G2P ({@code ','} = 9, {@code '.'} = 11).
 *
 * <p>Token classes follow upstream {@code conditioners/text.py} (tencent-ailab/SongBloom@ef78022, {@code __init__}): structure tokens
 * are the entries longer than one character that start with {@code '['} and end with {@code ']'}; the structure split is {@code ','},
 * the sentence split {@code '.'}.
 */
public final class LyricVocabulary {

    /** Entries in the released {@code vocab_g2p.yaml}. */
    public static final int RELEASED_SIZE = 330;

    /** Classpath location of the released vocabulary. */
    public static final String RELEASED_RESOURCE = bloom4j.text.songbloom.SongBloomSymbols.RESOURCE;

    /** The structure split token (upstream default {@code structure_split_tokens=[',']}). */
    public static final String STRUCTURE_SPLIT = ",";

    /** The sentence split token (upstream default {@code sentence_split_tokens=['.']}). */
    public static final String SENTENCE_SPLIT = ".";

    private static volatile LyricVocabulary released;

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final boolean[] structure;
    private final int structureSplitId;
    private final int sentenceSplitId;

    private LyricVocabulary(List<String> tokens, String origin) {
        if (tokens.isEmpty() || !tokens.get(0).isEmpty()) {
            throw new IllegalArgumentException(origin + ": entry 0 must be the empty token '' (the padding id), got "
                    + (tokens.isEmpty() ? "an empty list" : "'" + tokens.get(0) + "'"));
        }
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t == null) throw new IllegalArgumentException(origin + ": entry " + i + " is null; every entry must be a string");
            Integer prev = map.putIfAbsent(t, i);
            if (prev != null) {
                // Upstream looks ids up with list.index(), so a repeated entry could never be produced: reject the file.
                throw new IllegalArgumentException(origin + ": entry '" + t + "' appears twice (ids " + prev + " and " + i + ")");
            }
        }
        this.tokens = Collections.unmodifiableList(new ArrayList<>(tokens));
        this.ids = map;
        this.structure = new boolean[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            structure[i] = t.length() > 1 && t.charAt(0) == '[' && t.charAt(t.length() - 1) == ']';
        }
        this.structureSplitId = required(map, STRUCTURE_SPLIT, origin);
        this.sentenceSplitId = required(map, SENTENCE_SPLIT, origin);
    }

    private static int required(Map<String, Integer> map, String token, String origin) {
        Integer id = map.get(token);
        if (id == null) throw new IllegalArgumentException(origin + ": the vocabulary has no '" + token + "' entry, which the lyric "
                + "state machine needs (upstream raises ValueError in vocab_list.index)");
        return id;
    }

    /** A vocabulary from an explicit list (id = index). Entry 0 must be {@code ''}; entries must be distinct. */
    public static LyricVocabulary of(List<String> tokens) {
        return new LyricVocabulary(tokens, "lyric vocabulary");
    }

    /** Parses a YAML list of strings (the format of {@code vocab_g2p.yaml}). */
    public static LyricVocabulary fromYaml(InputStream in, String origin) throws IOException {
        List<String> list = new ObjectMapper(new YAMLFactory()).readValue(in, new TypeReference<List<String>>() { });
        if (list == null) throw new IOException(origin + ": empty YAML document, expected a list of strings");
        return new LyricVocabulary(list, origin);
    }

    /** The released 330-entry vocabulary (loaded once from the classpath). */
    public static LyricVocabulary released() {
        LyricVocabulary v = released;
        if (v == null) {
            synchronized (LyricVocabulary.class) {
                v = released;
                if (v == null) {
                    try (InputStream in = LyricVocabulary.class.getResourceAsStream(RELEASED_RESOURCE)) {
                        if (in == null) throw new IllegalStateException("resource " + RELEASED_RESOURCE + " is missing from the jar");
                        v = fromYaml(in, RELEASED_RESOURCE);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot read " + RELEASED_RESOURCE, e);
                    }
                    if (v.size() != RELEASED_SIZE) {
                        throw new IllegalStateException(RELEASED_RESOURCE + " has " + v.size() + " entries, expected " + RELEASED_SIZE);
                    }
                    released = v;
                }
            }
        }
        return v;
    }

    public int size() { return tokens.size(); }

    /** Entries in id order (unmodifiable). */
    public List<String> tokens() { return tokens; }

    /** The entry with this id. */
    public String token(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IndexOutOfBoundsException("lyric token id " + id + " is outside the vocabulary of " + tokens.size());
        }
        return tokens.get(id);
    }

    /** The id of a token, or -1 when it is not in the vocabulary. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    public boolean contains(String token) { return ids.containsKey(token); }

    /** True for the structure tags ({@code [verse]} ... {@code [silence]}, ids 1-7 in the released list). */
    public boolean isStructure(int id) { return id >= 0 && id < structure.length && structure[id]; }

    /** Id of {@code ','} (9 in the released list). */
    public int structureSplitId() { return structureSplitId; }

    /** Id of {@code '.'} (11 in the released list). */
    public int sentenceSplitId() { return sentenceSplitId; }
}
