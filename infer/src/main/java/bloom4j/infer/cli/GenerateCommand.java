package bloom4j.infer.cli;

import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.models.songbloom.LyricFrontEnd;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongGenerator;
import bloom4j.text.songbloom.SongBloomLyrics;
import bloom4j.nn.ComputeThreads;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.util.Progress;
import bloom4j.tensor.util.Sha256;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bloom4j generate}: songs from a JSONL file of requests ({@code idx}, {@code lyrics}, {@code prompt_wav} per line, as upstream
 * {@code infer.py}), written as {@code <idx>_s<i>.<ext>} into the output folder. Every line is checked (lyrics present, prompt file
 * readable) before the model is loaded, and errors name the line and the field.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate songs with SongBloom from lyrics and a prompt clip (a converted model folder, see 'bloom4j convert').",
                "Input: JSON lines {\"idx\": \"song1\", \"lyrics\": \"[verse] ...\", \"prompt_wav\": \"prompt.wav\"}; prompt paths are "
                        + "relative to the JSONL file. Output: <idx>_s<i>.<format> per sample."})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--input-jsonl", required = true, description = "requests, one JSON object per line") Path input;
    @Option(names = "--model", required = true, description = "converted SongBloom model folder") Path model;
    @Option(names = "--vae", description = "VAE checkpoint when the model folder has none (autoencoder_music_dsp1920.ckpt)") Path vae;
    @Option(names = "--lora", paramLabel = "DIR", description = "PEFT LoRA/DoRA adapter folder, or a bloom4j train run folder (its adapter/, "
            + "RUN/last, RUN/best-1): rank, alpha and targets from adapter_config.json, merged at load, with the run's trained tensors")
    Path lora;
    @Option(names = "--output-dir", required = true, description = "where the songs are written") Path outputDir;
    @Option(names = "--n-samples", defaultValue = "1", description = "songs per request (default 1)") int samples;
    @Option(names = "--max-duration", description = "seconds of music at most (default: the config's max_dur + 10)") Double maxDuration;
    @Option(names = "--output-format", defaultValue = "flac", description = "wav, flac or mp3 (default flac)") String format;
    @Option(names = "--seed", defaultValue = "0", description = "noise seed (default 0); sample i of every line derives its own") long seed;
    @Option(names = "--steps", description = "DiT sampler steps (default: the model folder's inference config; 36 in the released one)") Integer steps;
    @Option(names = "--cfg", description = "classifier-free guidance scale (default: the model folder's inference config; 1.5 in the released one)") Float cfg;
    @Option(names = "--top-k", description = "sketch top-k (0 = off; default: the model folder's inference config, 100 in the released one)") Integer topK;
    @Option(names = "--temperature", description = "sketch sampling temperature (default: the model folder's inference config; 0.9 in the released one)") Float temperature;
    @Mixin ThreadsOption threads;
    @Option(names = "--lang", defaultValue = "auto", description = "lyric language: auto (kana -> Japanese, else Han -> Chinese; "
            + "default), ja or zh") String lang;
    @Option(names = "--allow-lyric-loss", description = "generate even when the lyric would lose words (pieces outside the "
            + "vocabulary, unreadable words, too many tokens): a warning instead of an error") boolean allowLyricLoss;
    @Option(names = "--overwrite", description = "replace outputs made earlier with other parameters (by default a rerun skips "
            + "outputs already complete with the same parameters and refuses to replace different ones)") boolean overwrite;

    /** One validated input line. */
    record Line(int number, String idx, SongGenerator.Request request) { }

    @Override public Integer call() throws Exception {
        AudioFormat fmt = parseFormat(format);
        List<Line> lines = read(input, samples, maxDuration, seed, steps, cfg, topK, temperature, allowLyricLoss, G2pCommand.lang(lang));
        ComputeThreads.forInference(threads.resolve());
        try (OutputFolder folder = OutputFolder.open(outputDir)) {
            Map<String, String> common = commonParams(fmt);
            List<OutputFolder.Planned> plan = new ArrayList<>();
            List<String> conflicts = new ArrayList<>();
            int done = 0;
            for (Line l : lines) {
                String lyricsSha = Sha256.of((l.request().lyrics() + "\u0000" + l.request().lyricsPhonemes())
                        .getBytes(StandardCharsets.UTF_8));
                String promptSha = Sha256.of(l.request().promptPath());
                for (int s = 0; s < l.request().samples(); s++) {
                    Map<String, String> p = new LinkedHashMap<>(common);
                    p.put("idx", l.idx());
                    p.put("sample", Integer.toString(s));
                    p.put("lyrics_sha256", lyricsSha);
                    p.put("prompt", l.request().promptPath().toAbsolutePath().normalize().toString());
                    p.put("prompt_sha256", promptSha);
                    OutputFolder.Planned pl = folder.plan(outputDir.resolve(l.idx() + "_s" + s + "." + fmt.extension()), p);
                    if (pl.state() == OutputFolder.State.DONE) {
                        done++;
                    } else if (pl.state() == OutputFolder.State.CONFLICT && !overwrite) {
                        conflicts.add(pl.file() + " " + pl.why());
                    }
                    plan.add(pl);
                }
            }
            if (!conflicts.isEmpty()) {
                throw new IllegalArgumentException((conflicts.size() == 1 ? conflicts.get(0) : conflicts.size()
                        + " outputs exist already:\n  " + String.join("\n  ", conflicts)) + "\npass --overwrite to replace "
                        + (conflicts.size() == 1 ? "it" : "them") + ", or choose another --output-dir");
            }
            if (done == plan.size()) {
                System.out.println("all " + done + " output(s) in " + outputDir + " are already complete with these parameters; "
                        + "nothing to do");
                return 0;
            }
            if (done > 0) System.out.println(done + " of " + plan.size() + " output(s) already complete with these parameters: skipped");
            SongGenerator g = SongGenerator.load(model, SongGenerator.Options.defaults().withVae(vae).withLora(lora));
            // The options are the same for every line: a setting that does not fit the model is the option's or the model
            // folder's fault, reported once, before any work, not as the fault of input line 1.
            g.check(lines.get(0).request());
            for (Line l : lines) {
                try {
                    LyricFrontEnd.Prepared p = g.lyricPhonemes(l.request());
                    System.out.println(l.idx() + ": phonemes (" + p.tokens() + " tokens): " + p.phonemes());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(input + " line " + l.number() + ": " + e.getMessage(), e);
                }
            }
            int k = 0;
            for (Line l : lines) {
                int maxBlocks = g.maxBlocks(l.request());
                for (int s = 0; s < l.request().samples(); s++) {
                    OutputFolder.Planned pl = plan.get(k++);
                    if (pl.state() == OutputFolder.State.DONE) continue;
                    SongGenerator.Song song;
                    try (Progress p = Progress.start(l.idx() + " s" + s, maxBlocks, "blocks")) {
                        song = g.generateSample(l.request(), s, e -> { if (e.kept()) p.set(e.block() + 1); });
                    } catch (IllegalArgumentException | IOException e) {
                        throw new IllegalArgumentException(input + " line " + l.number() + ": " + e.getMessage(), e);
                    }
                    Files.deleteIfExists(OutputFolder.sidecar(pl.file())); // an old sidecar never describes the new audio
                    AudioIO.write(pl.file(), song.audio(), fmt);
                    folder.recordDone(pl);
                    System.out.printf("%s: %.2f s (%d blocks)%n", pl.file(), song.audio().frames() / (double) song.audio().sampleRate(),
                            song.tokens().length / g.model().config().blockSize());
                }
            }
        }
        return 0;
    }

    /**
     * What every output of this run shares and what decides its content: the model (its folder and the size and time of each of
     * its files, so a reconverted model is not mistaken for the old one), VAE, adapter, sampling options and format. Options left
     * at the model's defaults are recorded as "default".
     */
    private Map<String, String> commonParams(AudioFormat fmt) throws IOException {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("model", identity(model));
        p.put("vae", vae == null ? "none" : identity(vae));
        p.put("lora", lora == null ? "none" : identity(bloom4j.models.songbloom.SongBloomLoader.adapterFolder(lora)));
        p.put("seed", Long.toString(seed));
        p.put("steps", steps == null ? "default" : steps.toString());
        p.put("cfg", cfg == null ? "default" : cfg.toString());
        p.put("top_k", topK == null ? "default" : topK.toString());
        p.put("temperature", temperature == null ? "default" : temperature.toString());
        p.put("max_duration", maxDuration == null ? "default" : maxDuration.toString());
        p.put("format", fmt.name());
        p.put("lang", lang);
        return p;
    }

    /** A path and the size and modification time of the files directly in it (or of the file itself). */
    static String identity(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        StringBuilder sb = new StringBuilder(abs.toString());
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(abs)) {
            try (var s = Files.list(abs)) {
                s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).sorted().forEach(files::add);
            }
        } else if (Files.isRegularFile(abs)) {
            files.add(abs);
        }
        for (Path f : files) {
            sb.append('|').append(f.getFileName()).append(':').append(Files.size(f)).append(':')
                    .append(Files.getLastModifiedTime(f).toMillis());
        }
        return Sha256.of(sb.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 16) + " " + abs;
    }

    static AudioFormat parseFormat(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "wav" -> AudioFormat.WAV_PCM16;
            case "flac" -> AudioFormat.FLAC;
            case "mp3" -> AudioFormat.MP3;
            default -> throw new IllegalArgumentException("--output-format: unknown format '" + name + "'; choose wav, flac or mp3");
        };
    }

    /**
     * Checks the numeric options once, blaming the option (not an input line) for a bad value.
     */
    static void checkOptions(int samples, Double maxDuration, Integer steps, Float cfg, Integer topK, Float temp) {
        List<String> bad = new ArrayList<>();
        if (samples < 1) bad.add("--n-samples must be >= 1, got " + samples);
        if (maxDuration != null && !(maxDuration > 0)) bad.add("--max-duration must be > 0 seconds, got " + maxDuration);
        if (steps != null && steps < 1) bad.add("--steps must be >= 1, got " + steps);
        if (cfg != null && !Float.isFinite(cfg)) bad.add("--cfg must be finite, got " + cfg);
        if (topK != null && topK < 0) bad.add("--top-k must be >= 0 (0 = off), got " + topK);
        if (temp != null && (!Float.isFinite(temp) || temp < 0)) bad.add("--temperature must be >= 0 (0 = greedy), got " + temp);
        if (!bad.isEmpty()) throw new IllegalArgumentException(String.join("; ", bad));
    }

    /** Longest {@code idx}: the output name {@code <idx>_s<i>.<ext>} must stay under the usual 255-byte file-name limit. */
    static final int MAX_IDX_LENGTH = 200;

    /**
     * Reads and validates every line before any work; every bad line is reported at once, each error naming the file, the line and
     * the field.
     */
    static List<Line> read(Path file, int samples, Double maxDuration, long seed, Integer steps, Float cfg, Integer topK, Float temp)
            throws IOException {
        return read(file, samples, maxDuration, seed, steps, cfg, topK, temp, false, SongBloomLyrics.Lang.AUTO);
    }

    static List<Line> read(Path file, int samples, Double maxDuration, long seed, Integer steps, Float cfg, Integer topK, Float temp,
                           boolean allowLyricLoss, SongBloomLyrics.Lang lang) throws IOException {
        checkOptions(samples, maxDuration, steps, cfg, topK, temp);
        if (!Files.exists(file)) throw new IllegalArgumentException("--input-jsonl: no such file: " + file);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--input-jsonl: not a regular file: " + file);
        ObjectMapper om = new ObjectMapper();
        Path base = file.toAbsolutePath().getParent();
        List<Line> out = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<String> text = utf8Lines(file, errors);
        for (int i = 0; i < text.size(); i++) {
            String raw = text.get(i) == null ? "" : text.get(i).trim();
            if (raw.isEmpty()) continue;
            String where = file + " line " + (i + 1);
            try {
                JsonNode n;
                try {
                    n = om.readTree(raw);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException("not a JSON object: " + e.getOriginalMessage());
                }
                if (n == null || !n.isObject()) throw new IllegalArgumentException("not a JSON object");
                String idx = string(n, "idx").trim();
                if (!idx.matches("[A-Za-z0-9._-]+")) {
                    throw new IllegalArgumentException("field 'idx' '" + idx + "' must be a file-name-safe word (letters, digits, . _ -)");
                }
                if (idx.length() > MAX_IDX_LENGTH) {
                    throw new IllegalArgumentException("field 'idx' is " + idx.length() + " characters; at most " + MAX_IDX_LENGTH
                            + " fit in an output file name");
                }
                if (!seen.add(idx)) throw new IllegalArgumentException("field 'idx' '" + idx + "' repeats an earlier line");
                String lyrics = string(n, "lyrics");
                String phonemes = n.has("lyrics_phonemes") && !n.get("lyrics_phonemes").isNull() ? string(n, "lyrics_phonemes") : null;
                // The model-independent half of the lyric check (the vocabulary is the released one); the token count against the
                // model's max_len is checked once the model is loaded.
                LyricFrontEnd.Prepared lp = LyricFrontEnd.prepare(lyrics, phonemes, LyricVocabulary.released(), Integer.MAX_VALUE, lang);
                if (lp.lossy() && !allowLyricLoss) {
                    throw new IllegalArgumentException("field '" + (phonemes != null ? "lyrics_phonemes" : "lyrics") + "' would lose "
                            + "words: " + lp.loss() + "; fix the lyric or pass --allow-lyric-loss");
                }
                Path prompt = base.resolve(string(n, "prompt_wav"));
                if (!Files.exists(prompt)) throw new IllegalArgumentException("field 'prompt_wav': no such file: " + prompt);
                if (!Files.isRegularFile(prompt)) {
                    throw new IllegalArgumentException("field 'prompt_wav': not a regular file (a directory, FIFO or device): " + prompt);
                }
                try {
                    // Decoded now (the first seconds only) so that a broken prompt fails before any model work, with its line.
                    bloom4j.tensor.audio.AudioIO.read(prompt, bloom4j.models.songbloom.SongBloomModel.PROMPT_SECONDS + 1.0);
                } catch (IOException e) {
                    throw new IllegalArgumentException("field 'prompt_wav': " + (e.getMessage() != null ? e.getMessage()
                            : prompt + ": cannot be decoded (" + e.getClass().getSimpleName() + ")"));
                }
                SongGenerator.Request r = SongGenerator.Request.builder(lyrics).prompt(prompt).lyricsPhonemes(phonemes).seed(seed)
                        .samples(samples).steps(steps).cfg(cfg).topK(topK).temperature(temp).maxDuration(maxDuration)
                        .allowLyricLoss(allowLyricLoss).lyricLanguage(lang).build();
                out.add(new Line(i + 1, idx, r));
            } catch (IllegalArgumentException e) {
                errors.add(where + ": " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(errors.size() == 1 ? errors.get(0)
                    : errors.size() + " bad input lines:\n  " + String.join("\n  ", errors));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--input-jsonl " + file + ": no requests");
        return out;
    }

    /** A required field that must be a non-blank JSON string: numbers, booleans, lists and objects are refused, never coerced. */
    private static String string(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new IllegalArgumentException("field '" + field + "' is missing");
        if (!v.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string, got " + v.getNodeType().name().toLowerCase(
                    java.util.Locale.ROOT) + " " + abbreviate(v.toString()));
        }
        if (v.asText().isBlank()) throw new IllegalArgumentException("field '" + field + "' is empty");
        return v.asText();
    }

    private static String abbreviate(String s) { return s.length() <= 40 ? s : s.substring(0, 37) + "..."; }

    /** The file's lines decoded as strict UTF-8; a line that is not valid UTF-8 is recorded in {@code errors} and read as null. */
    static List<String> utf8Lines(Path file, List<String> errors) throws IOException {
        byte[] all = Files.readAllBytes(file);
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i < all.length && all[i] != '\n') continue;
            java.nio.charset.CharsetDecoder dec = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
            try {
                lines.add(dec.decode(java.nio.ByteBuffer.wrap(all, start, i - start)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                errors.add(file + " line " + (lines.size() + 1) + ": not valid UTF-8 text (save the file as UTF-8)");
                lines.add(null);
            }
            start = i + 1;
        }
        return lines;
    }
}
