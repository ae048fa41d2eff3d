package bloom4j.train.data;

import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricFrontEnd;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.audio.Resampler;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Progress;
import bloom4j.text.ja.LyricCleaning;
import bloom4j.text.songbloom.SongBloomLyrics;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Builds SongBloom's training JSONL from a corpus: per song the target audio, a 10 s prompt, the structured lyric and its phoneme
 * string, plus a report of what was kept, rejected and removed.
 *
 * <ul>
 *   <li>{@code jacappella}: {@code <root>/<subset>/<song>/} with the part WAVs and {@code <song>.musicxml} (or {@code .mxl},
 *       {@code _SVS}, {@code _romaji} variants); the lyric is the lead part's ({@link MusicXmlLyrics}), cleaned
 *       ({@link LyricCleaning}; a song whose lead lyric is less than 70 % Japanese letters is rejected), structured from the
 *       isolated lead's vocal activity ({@link SongStructure}); {@code idx = <subset>_<song>}.</li>
 *   <li>{@code plain}: a folder of {@code <name>.wav|flac|mp3} with {@code <name>.txt} beside each: a lyric with tags is used as
 *       it is; plain lines become the sentences of one {@code [verse]} between intro/outro tags from the audio's activity.</li>
 * </ul>
 * The prompt is 10 s mono at 48 kHz (480,000 samples, zero-padded), starting at the first vocal onset ({@code vocal}) or at 0
 * ({@code start}), written once as {@code prompts/<idx>_prompt.wav}. Every output is atomic; a finished song is recorded in
 * {@code items/<idx>.json} and skipped by a rerun; a folder prepared with other options is refused unless overwriting.
 */
public final class PrepareCorpus {
    private PrepareCorpus() {}

    public enum Format { JACAPPELLA, PLAIN }

    public record Options(Format format, Path root, Path out, String audioType, String score, String promptMode, double tagSeconds,
                          boolean overwrite) {
        public Options {
            if (!List.of("mixture", "lead_vocal").contains(audioType)) {
                throw new IllegalArgumentException("--audio-type must be mixture or lead_vocal, got " + audioType);
            }
            if (!List.of("plain", "svs", "romaji").contains(score)) throw new IllegalArgumentException("--score must be plain, svs or romaji");
            if (!List.of("vocal", "start").contains(promptMode)) {
                throw new IllegalArgumentException("--prompt-mode must be vocal or start (random windows are drawn at training time), got "
                        + promptMode);
            }
            if (!(tagSeconds > 0)) throw new IllegalArgumentException("--tag-seconds must be > 0, got " + tagSeconds);
        }

        String identity() { return format + "|" + audioType + "|" + score + "|" + promptMode + "|" + tagSeconds; }
    }

    public record Result(int kept, int rejected, Path jsonl, Path report) { }

    static final int SR = 48000, PROMPT_SAMPLES = 10 * SR;
    static final double MIN_JAPANESE_SHARE = 0.7;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One song found in the corpus. */
    private record Song(String idx, String subset, String song, Path audio, Path lead, Path score, Path text) { }

    public static Result run(Options o, boolean showProgress, PrintStream log) throws IOException {
        if (!Files.isDirectory(o.root())) throw new IllegalArgumentException("--root " + o.root() + ": no such folder");
        Files.createDirectories(o.out());
        Path config = o.out().resolve("prepare-config.json");
        if (Files.exists(config)) {
            String was = JSON.readTree(config.toFile()).path("identity").asText();
            if (!was.equals(o.identity()) && !o.overwrite()) {
                throw new IllegalStateException(o.out() + " holds a corpus prepared with other options (" + was + "); this run is "
                        + o.identity() + ": choose another --out or pass --overwrite");
            }
        }
        ObjectNode cfg = JSON.createObjectNode().put("identity", o.identity()).put("root", o.root().toAbsolutePath().toString());
        AtomicFiles.writeString(config, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
        Path items = Files.createDirectories(o.out().resolve("items"));
        Path prompts = Files.createDirectories(o.out().resolve("prompts"));
        AtomicFiles.removeStalePartials(items);
        AtomicFiles.removeStalePartials(prompts);

        List<Song> songs = o.format() == Format.JACAPPELLA ? jacappella(o) : plain(o);
        if (songs.isEmpty()) throw new IllegalArgumentException("--root " + o.root() + ": no songs found for --format "
                + o.format().name().toLowerCase(Locale.ROOT));
        ArrayNode report = JSON.createArrayNode();
        StringBuilder jsonl = new StringBuilder();
        int kept = 0, rejected = 0;
        Map<String, Integer> removedTotal = new TreeMap<>();
        try (Progress bar = showProgress ? Progress.start("prepare", songs.size(), "songs") : Progress.silent()) {
            for (Song s : songs) {
                Path item = items.resolve(s.idx() + ".json");
                JsonNode entry;
                if (Files.exists(item) && !o.overwrite()) {
                    entry = JSON.readTree(item.toFile());
                } else {
                    entry = prepare(s, o, prompts);
                    AtomicFiles.writeString(item, JSON.writeValueAsString(entry));
                }
                JsonNode rep = entry.get("report");
                report.add(rep);
                rep.path("removed").fields().forEachRemaining(e -> removedTotal.merge(e.getKey(), e.getValue().asInt(), Integer::sum));
                if (entry.has("line")) {
                    jsonl.append(JSON.writeValueAsString(entry.get("line"))).append('\n');
                    kept++;
                } else {
                    rejected++;
                    log.println("rejected " + s.idx() + ": " + rep.path("reason").asText());
                }
                bar.step(1);
            }
        }
        Path out = o.out().resolve("train.jsonl");
        AtomicFiles.writeString(out, jsonl.toString());
        ObjectNode full = JSON.createObjectNode();
        full.put("kept", kept).put("rejected", rejected);
        full.set("removed_characters", JSON.valueToTree(removedTotal));
        full.set("songs", report);
        Path reportFile = o.out().resolve("prepare-report.json");
        AtomicFiles.writeString(reportFile, JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(full));
        log.printf(Locale.ROOT, "prepare: %d song(s) kept, %d rejected -> %s (report %s); removed characters %s%n", kept, rejected, out,
                reportFile, removedTotal);
        return new Result(kept, rejected, out, reportFile);
    }

    private static List<Song> jacappella(Options o) throws IOException {
        List<Song> out = new ArrayList<>();
        List<Path> subsets;
        try (Stream<Path> s = Files.list(o.root())) {
            subsets = s.filter(Files::isDirectory).sorted().toList();
        }
        String suffix = switch (o.score()) { case "svs" -> "_SVS"; case "romaji" -> "_romaji"; default -> ""; };
        for (Path sub : subsets) {
            List<Path> dirs;
            try (Stream<Path> s = Files.list(sub)) {
                dirs = s.filter(Files::isDirectory).sorted().toList();
            }
            for (Path d : dirs) {
                String song = d.getFileName().toString();
                Path score = d.resolve(song + suffix + ".musicxml");
                if (!Files.exists(score)) score = d.resolve(song + suffix + ".mxl");
                out.add(new Song(sub.getFileName() + "_" + song, sub.getFileName().toString(), song,
                        d.resolve(o.audioType() + ".wav"), d.resolve("lead_vocal.wav"), score, null));
            }
        }
        return out;
    }

    private static List<Song> plain(Options o) throws IOException {
        List<Song> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(o.root())) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                String lower = n.toLowerCase(Locale.ROOT);
                if (!(lower.endsWith(".wav") || lower.endsWith(".flac") || lower.endsWith(".mp3"))) continue;
                String name = n.substring(0, n.lastIndexOf('.'));
                out.add(new Song(name.replaceAll("[^A-Za-z0-9._-]", "_"), null, name, p, null, null, p.resolveSibling(name + ".txt")));
            }
        }
        return out;
    }

    /** One song: {"line": JSONL object, "report": {...}} or just a report with the reason it was rejected. */
    private static JsonNode prepare(Song s, Options o, Path prompts) {
        ObjectNode rep = JSON.createObjectNode().put("idx", s.idx());
        ObjectNode entry = JSON.createObjectNode();
        entry.set("report", rep);
        try {
            if (!Files.isRegularFile(s.audio())) return reject(entry, rep, s.audio() + ": no such audio file");
            float[] mono = mono48k(s.audio());
            double duration = mono.length / (double) SR;
            rep.put("duration_s", duration);
            List<VocalActivity.Interval> activity;
            String lyric;
            Map<String, Integer> removed = new TreeMap<>();
            if (o.format() == Format.JACAPPELLA) {
                if (!Files.isRegularFile(s.score())) return reject(entry, rep, s.score() + ": no such score");
                List<MusicXmlLyrics.Phrase> phrases = MusicXmlLyrics.read(s.score());
                StringBuilder raw = new StringBuilder();
                List<SongStructure.Line> lines = new ArrayList<>();
                for (MusicXmlLyrics.Phrase p : phrases) {
                    raw.append(p.text());
                    LyricCleaning.Cleaned c = LyricCleaning.clean(p.text());
                    c.removed().forEach((k, v) -> removed.merge(k, v, Integer::sum));
                    if (!c.text().replace("。", "").isBlank()) lines.add(new SongStructure.Line(p.start(), c.text()));
                }
                rep.set("removed", JSON.valueToTree(removed));
                double share = LyricCleaning.japaneseShare(raw.toString());
                rep.put("japanese_share", share);
                if (share < MIN_JAPANESE_SHARE) {
                    return reject(entry, rep, String.format(Locale.ROOT, "the lead lyric is %.0f %% Japanese letters, less than 70 %%", 100 * share));
                }
                if (lines.isEmpty()) return reject(entry, rep, "no lyric phrase left after cleaning");
                activity = Files.isRegularFile(s.lead()) ? VocalActivity.detect(mono48k(s.lead()), SR) : List.of();
                lyric = SongStructure.lyric(lines, activity, duration, o.tagSeconds());
            } else {
                if (!Files.isRegularFile(s.text())) return reject(entry, rep, s.text() + ": no lyric file beside the audio");
                String text = Files.readString(s.text()).strip();
                activity = VocalActivity.detect(mono, SR);
                if (text.contains("[")) {
                    lyric = text.replaceAll("\\s+", " ");
                } else {
                    List<SongStructure.Line> lines = new ArrayList<>();
                    for (String l : text.split("\\R")) if (!l.isBlank()) lines.add(new SongStructure.Line(0, l.strip()));
                    if (lines.isEmpty()) return reject(entry, rep, s.text() + ": the lyric file is empty");
                    lyric = SongStructure.lyric(lines, activity.isEmpty() ? List.of() : List.of(new VocalActivity.Interval(
                            activity.get(0).start(), activity.get(activity.size() - 1).end())), duration, o.tagSeconds());
                }
                rep.set("removed", JSON.createObjectNode());
            }
            // a jaCappella lyric is Japanese even where a phrase is kanji only; a plain folder's language is detected per song
            LyricFrontEnd.Prepared ph = LyricFrontEnd.prepare(lyric, null, LyricVocabulary.released(), LyricConditioner.RELEASED_MAX_LEN,
                    o.format() == Format.JACAPPELLA ? SongBloomLyrics.Lang.JA : SongBloomLyrics.Lang.AUTO);
            rep.put("tokens", ph.tokens());
            rep.set("oov", JSON.valueToTree(ph.oov()));
            if (ph.lossy()) return reject(entry, rep, "the lyric would lose words: " + ph.loss());
            double onset = o.promptMode().equals("vocal") && !activity.isEmpty() ? activity.get(0).start() : 0;
            int from = (int) Math.min(Math.max(0, mono.length - PROMPT_SAMPLES), Math.round(onset * SR));
            float[] prompt = new float[PROMPT_SAMPLES];
            System.arraycopy(mono, from, prompt, 0, Math.min(PROMPT_SAMPLES, mono.length - from));
            Path promptFile = prompts.resolve(s.idx() + "_prompt.wav");
            AudioIO.write(promptFile, Audio.mono(prompt, SR), AudioFormat.WAV_PCM16);
            ObjectNode line = JSON.createObjectNode();
            line.put("idx", s.idx()).put("audio_path", s.audio().toAbsolutePath().toString()).put("lyrics", lyric)
                    .put("prompt_wav", promptFile.toAbsolutePath().toString()).put("lyrics_phonemes", ph.phonemes())
                    .put("duration_s", duration);
            if (s.subset() != null) line.put("subset", s.subset());
            line.put("song", s.song());
            if (o.format() == Format.JACAPPELLA) line.put("audio_type", o.audioType());
            entry.set("line", line);
            rep.put("kept", true).put("prompt_start_s", from / (double) SR);
            return entry;
        } catch (IOException | RuntimeException e) {
            return reject(entry, rep, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
    }

    /** A file mixed to mono (before resampling: half the work for stereo, the same result) at 48 kHz. */
    private static float[] mono48k(Path file) throws IOException {
        Audio a = AudioIO.read(file).mono();
        return (a.sampleRate() == SR ? a : Resampler.resample(a, SR)).channel(0);
    }

    private static JsonNode reject(ObjectNode entry, ObjectNode rep, String reason) {
        rep.put("kept", false).put("reason", reason);
        return entry;
    }
}
