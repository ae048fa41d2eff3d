package bloom4j.text.zipvoice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ZipVoice token file ({@code tokens.txt}): one {@code {token}\t{id}} per line, UTF-8, read as upstream's tokenizers read it
 * (k2-fsa/ZipVoice@2f7326f {@code zipvoice/tokenizer/tokenizer.py} L82-91): trailing whitespace stripped, split on the tab. The
 * space token is the line {@code " \t3"}, so the line is never split on other whitespace. {@code pad_id} is the id of {@code _},
 * {@code vocab_size} the number of entries.
 *
 * <p>Unlike upstream, a malformed line, a repeated token or id, or ids that are not {@code 0 … n−1} are errors naming the file and
 * line; and {@link #ids} reports tokens it cannot map instead of dropping them silently.
 */
public final class TokenTable {
    private final Map<String, Integer> ids;
    private final String[] tokens;
    private final String source;

    private TokenTable(Map<String, Integer> ids, String source) {
        this.ids = Collections.unmodifiableMap(ids);
        this.tokens = new String[ids.size()];
        ids.forEach((t, i) -> tokens[i] = t);
        this.source = source;
    }

    public static TokenTable read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
    }

    /** From the file's lines; {@code source} names it in errors. */
    public static TokenTable parse(List<String> lines, String source) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<Integer, String> byId = new LinkedHashMap<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).stripTrailing();
            if (n == 0 && line.startsWith("\uFEFF")) line = line.substring(1);
            if (line.isEmpty()) continue;
            int tab = line.indexOf('\t');
            if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
                throw new IllegalArgumentException(source + ":" + (n + 1) + ": expected '{token}<TAB>{id}', got '" + line + "'");
            }
            String token = line.substring(0, tab);
            int id;
            try {
                id = Integer.parseInt(line.substring(tab + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(source + ":" + (n + 1) + ": id '" + line.substring(tab + 1) + "' is not an integer");
            }
            if (token.isEmpty()) throw new IllegalArgumentException(source + ":" + (n + 1) + ": empty token");
            if (ids.containsKey(token)) throw new IllegalArgumentException(source + ":" + (n + 1) + ": token '" + token + "' repeated");
            if (byId.containsKey(id)) {
                throw new IllegalArgumentException(source + ":" + (n + 1) + ": id " + id + " repeated (also '" + byId.get(id) + "')");
            }
            ids.put(token, id);
            byId.put(id, token);
        }
        for (int id : byId.keySet()) {
            if (id < 0 || id >= ids.size()) {
                throw new IllegalArgumentException(source + ": ids must be 0…" + (ids.size() - 1) + " (one per line), found " + id);
            }
        }
        if (!ids.containsKey("_")) throw new IllegalArgumentException(source + ": no pad token '_'");
        return new TokenTable(ids, source);
    }

    public int vocabSize() { return tokens.length; }

    public int padId() { return ids.get("_"); }

    /** The id of {@code token}, or -1. */
    public int id(String token) { return ids.getOrDefault(token, -1); }

    public String token(int id) { return tokens[id]; }

    public boolean contains(String token) { return ids.containsKey(token); }

    /** Where the table was read from. */
    public String source() { return source; }

    /** Ids of {@code tokens}, with every token the table lacks listed in {@link Mapped#unknown} (in order, repeats kept). */
    public Mapped ids(List<String> tokenList) {
        List<Integer> out = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String t : tokenList) {
            Integer id = ids.get(t);
            if (id == null) unknown.add(t);
            else out.add(id);
        }
        return new Mapped(out.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(unknown));
    }

    /** Token ids and the tokens that had none. */
    public record Mapped(int[] ids, List<String> unknown) { }

    /** The file's text, {@code {token}\t{id}\n} per id. */
    public String render() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < tokens.length; i++) b.append(tokens[i]).append('\t').append(i).append('\n');
        return b.toString();
    }
}
