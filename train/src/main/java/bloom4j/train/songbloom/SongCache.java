package bloom4j.train.songbloom;

import bloom4j.models.GaussianNoise;
import bloom4j.models.songbloom.SketchVocabulary;
import bloom4j.models.songbloom.SongBloomModel;
import bloom4j.models.vae.OobleckVae;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.audio.Resampler;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Progress;
import bloom4j.tensor.util.Sha256;
import bloom4j.train.data.TrainingJsonl;
import bloom4j.train.sketch.AudioReader;
import bloom4j.train.sketch.Npy;
import bloom4j.train.sketch.SketchExtractor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The offline cache of SongBloom fine-tuning: per song of a training JSONL, the VAE latents of the whole song, its sketch ids (MuQ →
 * VQ, {@link SketchExtractor.Encoder}, the code {@code extract-sketch} runs), and the prompt's VAE latents. Whole songs are cached;
 * crops are drawn when training loads them (the fork froze its first random crop into the cache, ayutaz/SongBloom
 * {@code SongBloom/training/dataset.py} L207-216).
 *
 * <p>Alignment as the fork's dataset (L188-194): {@code T' = min(T_latent, T_sketch)}, then {@code T'' = S·floor(T'/S)} with S the
 * block size; a length difference above 2 frames is logged. Every id must be a code of the model ({@code 0 ≤ id < num_pitch}),
 * else the run stops naming the song. Files per song: {@code <idx>.latent.npy} float32 {@code [latent, T'']},
 * {@code <idx>.sketch.npy} int32 {@code [T'']}, {@code <idx>.prompt.npy} float32 {@code [T_prompt, latent]} (frames × channels, the
 * first 10 s), and {@code <idx>.meta.json} (codebook SHA-256 and size, MuQ layer, VAE weights SHA-256, sample rate, crop start,
 * {@code ends_at_song_end}, the source's size and time, each file's size and SHA-256). A rerun skips songs whose meta matches.
 *
 * <p>The VAE bottleneck samples ({@code latent = mean + std·ε}) as upstream's encode does; ε is seeded per song from its idx, so a
 * cache is reproducible. Long audio is encoded in windows ({@link OobleckVae#encoderOutputChunked}).
 */
public final class SongCache {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Window and context of the chunked VAE encode, in latent frames (20 s and 2.56 s at 25 Hz). */
    static final int CHUNK_FRAMES = 500, CONTEXT_FRAMES = 64;
    static final int MAX_LENGTH_DIFF = 2;

    private SongCache() {}

    /** What a cache run needs; {@code vaeSha} identifies the VAE weights (recorded, and checked on reruns). */
    public record Options(Path jsonl, Path out, int blockSize, SketchVocabulary vocabulary, String vaeSha, String muqName) { }

    public record Result(int written, int skipped, long frames) { }

    /** Caches every song of the JSONL. */
    public static Result run(Options o, List<TrainingJsonl.Item> items, OobleckVae vae, SketchExtractor.Encoder sketch, boolean progress,
                             PrintStream log) throws IOException {
        Files.createDirectories(o.out());
        int stale = AtomicFiles.removeStalePartials(o.out());
        if (stale > 0) log.println("cache: removed " + stale + " partial file(s) an interrupted run left in " + o.out());
        List<TrainingJsonl.Item> todo = new ArrayList<>();
        int skipped = 0;
        for (TrainingJsonl.Item it : items) {
            if (upToDate(o, it, sketch)) skipped++;
            else todo.add(it);
        }
        long frames = 0;
        try (Progress bar = progress ? Progress.start("cache", todo.size(), "songs") : Progress.silent()) {
            for (TrainingJsonl.Item it : todo) {
                frames += cacheOne(o, it, vae, sketch, log);
                bar.step(1);
            }
        }
        log.printf(Locale.ROOT, "cache: %d song(s) written, %d already cached, %d latent frames (%.1f s) in %s%n", todo.size(), skipped,
                frames, frames / vae.config().frameRate(), o.out());
        return new Result(todo.size(), skipped, frames);
    }

    private static long cacheOne(Options o, TrainingJsonl.Item it, OobleckVae vae, SketchExtractor.Encoder sketch, PrintStream log)
            throws IOException {
        String where = o.jsonl() + " line " + it.line() + " (idx '" + it.idx() + "')";
        Audio audio = read(it.audio(), where, "audio_path");
        INDArray latent = latents(vae, audio, seed(it.idx(), "song"));              // [L, T]
        Audio mono = audio.mono();
        int[] ids = sketch.ids(new AudioReader.Mono(mono.channelView(0), mono.sampleRate()), it.audio());
        long tl = latent.size(1), ts = ids.length;
        if (Math.abs(tl - ts) > MAX_LENGTH_DIFF) {
            log.printf(Locale.ROOT, "cache: %s: VAE gives %d frames, the sketch %d (difference above %d: check the audio)%n", it.idx(), tl,
                    ts, MAX_LENGTH_DIFF);
        }
        long t = Math.min(tl, ts) / o.blockSize() * o.blockSize();
        if (t < o.blockSize()) {
            throw new IllegalArgumentException(where + ": " + it.audio() + " gives " + Math.min(tl, ts) + " frames, less than one block of "
                    + o.blockSize() + " (" + o.blockSize() / vae.config().frameRate() + " s)");
        }
        int[] kept = java.util.Arrays.copyOf(ids, (int) t);
        try {
            o.vocabulary().requireTokens(java.util.Arrays.stream(kept).asLongStream().toArray(), false);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(where + ": sketch id outside the model's codes 0.." + (o.vocabulary().numCodes() - 1) + ": "
                    + e.getMessage() + " (the codebook has more codes than the model; train a codebook with K <= num_pitch)");
        }
        INDArray lat = latent.get(NDArrayIndex.all(), NDArrayIndex.interval(0, t)).dup('c');
        Audio prompt = read(it.prompt(), where, "prompt_wav");
        Audio p48 = Resampler.resample(prompt.mono(), vae.config().sampleRate());
        int keep = (int) Math.round(SongBloomModel.PROMPT_SECONDS * vae.config().sampleRate());
        INDArray promptLatent = p48.frames() < bloom4j.models.vae.StableVae.MIN_SAMPLES
                ? Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, vae.config().latentDim())
                : latents(vae, p48.truncate(keep), seed(it.idx(), "prompt")).transpose().dup('c');     // [T_p, L]

        Path latentFile = o.out().resolve(it.idx() + ".latent.npy"), sketchFile = o.out().resolve(it.idx() + ".sketch.npy");
        Path promptFile = o.out().resolve(it.idx() + ".prompt.npy");
        Npy.writeFloat32(latentFile, lat.reshape(-1).toFloatVector(), lat.shape());
        Npy.writeInt32(sketchFile, kept);
        Npy.writeFloat32(promptFile, promptLatent.length() == 0 ? new float[0] : promptLatent.reshape(-1).toFloatVector(), promptLatent.shape());
        ObjectNode m = JSON.createObjectNode();
        m.put("idx", it.idx());
        m.put("source", it.audio().toString());
        m.put("source_bytes", Files.size(it.audio()));
        m.put("source_mtime", Files.getLastModifiedTime(it.audio()).toMillis());
        m.put("prompt_source", it.prompt().toString());
        m.put("codebook_sha256", sketch.codebook().sha256());
        m.put("codebook_size", sketch.codebook().size());
        m.put("muq_layer", sketch.layer());
        m.put("muq_model", o.muqName());
        m.put("vae_sha256", o.vaeSha());
        m.put("sample_rate", vae.config().sampleRate());
        m.put("frame_rate", vae.config().frameRate());
        m.put("frames", t);
        m.put("latent_frames", tl);
        m.put("sketch_frames", ts);
        m.put("crop_start", 0);
        m.put("ends_at_song_end", it.endsAtSongEnd());
        for (Path f : List.of(latentFile, sketchFile, promptFile)) {
            String kind = f.getFileName().toString().replace(it.idx() + ".", "").replace(".npy", "");
            m.put(kind + "_bytes", Files.size(f));
            m.put(kind + "_sha256", Sha256.of(f));
        }
        AtomicFiles.writeString(o.out().resolve(it.idx() + ".meta.json"), JSON.writeValueAsString(m));
        return t;
    }

    private static boolean upToDate(Options o, TrainingJsonl.Item it, SketchExtractor.Encoder sketch) throws IOException {
        Path meta = o.out().resolve(it.idx() + ".meta.json");
        if (!Files.isRegularFile(meta)) return false;
        JsonNode m = JSON.readTree(meta.toFile());
        if (!sketch.codebook().sha256().equals(m.path("codebook_sha256").asText()) || m.path("muq_layer").asInt(-1) != sketch.layer()) {
            throw new IllegalStateException(o.out() + " already holds songs cached with codebook " + m.path("codebook_sha256").asText()
                    + " (MuQ layer " + m.path("muq_layer").asInt() + ", e.g. " + meta.getFileName() + "); this run uses "
                    + sketch.codebook().sha256() + " (layer " + sketch.layer() + "): caches of different codebooks must not mix; choose another --out");
        }
        if (!o.vaeSha().equals(m.path("vae_sha256").asText())) return false;
        if (!Files.isRegularFile(it.audio()) || m.path("source_bytes").asLong() != Files.size(it.audio())
                || m.path("source_mtime").asLong() != Files.getLastModifiedTime(it.audio()).toMillis()) {
            return false;
        }
        if (m.path("ends_at_song_end").asBoolean(true) != it.endsAtSongEnd()) return false;
        for (String kind : List.of("latent", "sketch", "prompt")) {
            Path f = o.out().resolve(it.idx() + "." + kind + ".npy");
            if (!Files.isRegularFile(f) || Files.size(f) != m.path(kind + "_bytes").asLong(-1) || !Sha256.of(f).equals(m.path(kind + "_sha256").asText())) {
                return false;
            }
        }
        return true;
    }

    private static Audio read(Path file, String where, String field) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(where + ": " + field + " " + file + ": no such file");
        return AudioIO.read(file);
    }

    /** VAE latents {@code [L, T]} of {@code audio} at any rate and channel count. */
    static INDArray latents(OobleckVae vae, Audio audio, long seed) {
        Audio a = Resampler.resample(audio, vae.config().sampleRate()).toChannels(vae.config().ioChannels());
        INDArray x = a.toINDArray().reshape(1, a.channels(), a.frames());
        INDArray out = vae.encoderOutputChunked(x, CHUNK_FRAMES, CONTEXT_FRAMES);                      // [1, 2L, T]
        OobleckVae.Encoded e = vae.bottleneck(out, GaussianNoise.seeded(seed));
        return e.latent().get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');   // [L, T]
    }

    /** A stable seed from an idx and a purpose. */
    static long seed(String idx, String what) {
        byte[] h = Sha256.of((what + "\u0000" + idx).getBytes(StandardCharsets.UTF_8)).substring(0, 16).getBytes(StandardCharsets.US_ASCII);
        return Long.parseUnsignedLong(new String(h, StandardCharsets.US_ASCII), 16);
    }

    /** One cached song read back for training. */
    public record Song(String idx, INDArray latents /* [T, L] frames × channels */, long[] sketch, INDArray promptLatents /* [T_p, L] */,
                       boolean endsAtSongEnd) {
        public int frames() { return sketch.length; }
    }

    /** Reads song {@code idx}, refusing a cache of another codebook or VAE, or files that do not match their meta. */
    public static Song load(Path dir, String idx, String codebookSha, String vaeSha) throws IOException {
        Path meta = dir.resolve(idx + ".meta.json");
        if (!Files.isRegularFile(meta)) {
            throw new IllegalArgumentException("song '" + idx + "' is not in the cache " + dir + ": run bloom4j cache on the training JSONL");
        }
        JsonNode m = JSON.readTree(meta.toFile());
        if (codebookSha != null && !codebookSha.equals(m.path("codebook_sha256").asText())) {
            throw new IllegalStateException("cache " + meta + " was made with codebook " + m.path("codebook_sha256").asText() + ", not "
                    + codebookSha + ": re-run bloom4j cache with this codebook");
        }
        if (vaeSha != null && !vaeSha.equals(m.path("vae_sha256").asText())) {
            throw new IllegalStateException("cache " + meta + " was made with VAE weights " + m.path("vae_sha256").asText() + ", not the model's "
                    + vaeSha + ": re-run bloom4j cache with this model");
        }
        for (String kind : List.of("latent", "sketch", "prompt")) {
            Path f = dir.resolve(idx + "." + kind + ".npy");
            if (!Files.isRegularFile(f) || Files.size(f) != m.path(kind + "_bytes").asLong(-1)) {
                throw new IllegalStateException(f + " is missing or does not match " + meta + ": re-run bloom4j cache");
            }
        }
        Npy.Floats lat = Npy.readFloats(dir.resolve(idx + ".latent.npy"));
        int[] s = Npy.readInts(dir.resolve(idx + ".sketch.npy"));
        Npy.Floats p = Npy.readFloats(dir.resolve(idx + ".prompt.npy"));
        INDArray l = Nd4j.create(lat.values(), lat.shape(), 'c').transpose().dup('c');
        INDArray pr = p.values().length == 0 ? Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, lat.shape()[0])
                : Nd4j.create(p.values(), p.shape(), 'c');
        return new Song(idx, l, java.util.Arrays.stream(s).asLongStream().toArray(), pr, m.path("ends_at_song_end").asBoolean(true));
    }
}
