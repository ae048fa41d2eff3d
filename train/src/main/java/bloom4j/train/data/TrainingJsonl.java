package bloom4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SongBloom training JSONL (one song per line, UTF-8; field names of the fine-tuning fork, ayutaz/SongBloom
 * {@code docs/training_data_format.md}): {@code idx}, {@code audio_path}, {@code lyrics}, {@code prompt_wav} required;
 * {@code lyrics_phonemes}, {@code ends_at_song_end} (default true), {@code duration_s}, {@code subset}, {@code song} optional. Paths
 * are resolved against the JSONL's folder. Read strictly: every bad line is reported at once with its line number and field.
 */
public final class TrainingJsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingJsonl() {}

    /** One song. {@code line} is 1-based. */
    public record Item(int line, String idx, Path audio, String lyrics, Path prompt, String lyricsPhonemes, boolean endsAtSongEnd) {
        /** The lyric the model reads: {@code lyrics_phonemes} when given, else {@code lyrics}. */
        public String modelLyrics() { return lyricsPhonemes != null ? lyricsPhonemes : lyrics; }
    }

    /** Reads every line; an empty file, a bad line or a repeated idx is an error naming the file and the lines. */
    public static List<Item> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such JSONL file");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        }
        Path base = file.toAbsolutePath().getParent();
        List<Item> items = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) continue;
            int n = i + 1;
            JsonNode o;
            try {
                o = JSON.readTree(l);
            } catch (IOException e) {
                problems.add("line " + n + ": not JSON (" + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()) + ")");
                continue;
            }
            if (o == null || !o.isObject()) {
                problems.add("line " + n + ": expected a JSON object");
                continue;
            }
            List<String> bad = new ArrayList<>();
            String idx = string(o, "idx", true, bad), audio = string(o, "audio_path", true, bad), lyrics = string(o, "lyrics", true, bad);
            String prompt = string(o, "prompt_wav", true, bad), phon = string(o, "lyrics_phonemes", false, bad);
            JsonNode ends = o.get("ends_at_song_end");
            if (ends != null && !ends.isBoolean() && !ends.isNull()) bad.add("'ends_at_song_end' must be true or false");
            if (!bad.isEmpty()) {
                problems.add("line " + n + ": " + String.join("; ", bad));
                continue;
            }
            Integer before = seen.put(idx, n);
            if (before != null) {
                problems.add("line " + n + ": idx '" + idx + "' repeats line " + before);
                continue;
            }
            items.add(new Item(n, idx, base.resolve(audio), lyrics, base.resolve(prompt), phon, ends == null || ends.isNull() || ends.asBoolean()));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file + ": " + problems.size() + " bad line(s):\n  " + String.join("\n  ", problems)
                    + "\n(each line needs string fields idx, audio_path, lyrics, prompt_wav; see README 'Fine-tuning')");
        }
        if (items.isEmpty()) throw new IllegalArgumentException(file + ": no songs (the file has no JSON lines)");
        return items;
    }

    private static String string(JsonNode o, String field, boolean required, List<String> bad) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            if (required) bad.add("'" + field + "' is missing");
            return null;
        }
        if (!v.isTextual()) {
            bad.add("'" + field + "' must be a string, got " + v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
            return null;
        }
        if (required && v.asText().isBlank() && !field.equals("lyrics")) bad.add("'" + field + "' is empty");
        return v.asText();
    }
}
