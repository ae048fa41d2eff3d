package bloom4j.train.sketch;

import bloom4j.models.muq.MuqModel;
import bloom4j.models.songbloom.SketchVocabulary;
import bloom4j.models.vq.CodebookFile;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Progress;
import bloom4j.tensor.util.Sha256;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sketch tokens for new songs: for each audio file, mono 24 kHz → MuQ hidden state of the codebook's
 * layer → nearest code → the first {@link SketchAlignment#latentFrames} tokens, so that token t and VAE latent frame t cover the same
 * 40 ms. Written per file as
 * <pre>
 *   &lt;idx&gt;.sketch.npy    int32 [T]
 *   &lt;idx&gt;.meta.json     codebook_sha256, codebook_size, muq_layer, muq_model, sample_rate, frame_rate, frames, source size/time
 * </pre>
 * {@code idx} is the file's path under the data folder without its extension, with '/' as "__".
 *
 * <p>The cache is keyed by codebook and layer: a rerun skips a file whose meta records the same codebook hash, layer and source size
 * and time; a folder holding sketches of another codebook or layer is refused before any work (never silently mixed), unless
 * {@code overwrite}. {@link #readSketch} is how training reads them back, refusing another codebook's.
 */
public final class SketchExtractor {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SketchExtractor() {}

    /** Options of {@code bloom4j extract-sketch}; {@code songbloomModel} may be null, {@code layer} negative = the codebook's. */
    public record Options(Path dataDir, Path codebook, Path output, Path muqModel, int layer, Path songbloomModel, boolean overwrite) {
        public Options {
            if (dataDir == null || !Files.isDirectory(dataDir)) throw new IllegalArgumentException("--data-dir " + dataDir + ": no such folder");
            if (codebook == null || !Files.isRegularFile(codebook)) throw new IllegalArgumentException("--codebook " + codebook + ": no such file");
            if (output == null) throw new IllegalArgumentException("--output is required (the folder for the sketch files)");
            if (muqModel == null || !Files.exists(muqModel)) throw new IllegalArgumentException("--muq " + muqModel + ": no such file or folder");
            if (songbloomModel != null && !Files.exists(songbloomModel)) {
                throw new IllegalArgumentException("--model " + songbloomModel + ": no such SongBloom model folder");
            }
        }
    }

    public record Result(int written, int cached, long frames, String codebookSha, int layer) {}

    /** Checks, then extracts every file; {@code muq} is the loaded MuQ model of {@code options.muqModel()}. */
    public static Result run(Options o, MuqModel muq, AudioReader reader, boolean showProgress, PrintStream log) throws IOException {
        Encoder enc = Encoder.open(o.codebook(), o.layer(), muq, o.muqModel());
        CodebookFile.Loaded cb = enc.codebook();
        int layer = enc.layer();
        SketchVocabulary vocab = null;
        if (o.songbloomModel() != null) {
            vocab = SketchVocabularyGuard.read(o.songbloomModel());
            SketchVocabularyGuard.requireFits(vocab, cb.size(), o.songbloomModel(), o.codebook().toString());
            log.println(SketchVocabularyGuard.semanticsNote(cb.sha256()));
        }

        List<Path> files;
        try (var s = Files.walk(o.dataDir())) {
            files = s.filter(Files::isRegularFile).filter(reader::accepts).sorted().toList();
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no audio files in " + o.dataDir());
        Files.createDirectories(o.output());
        int stale = AtomicFiles.removeStalePartials(o.output());
        if (stale > 0) log.println("removed " + stale + " partial file(s) an interrupted run left in " + o.output());
        List<Path> todo = new ArrayList<>();
        int cached = 0;
        for (Path f : files) {
            Path meta = o.output().resolve(idx(o.dataDir(), f) + ".meta.json");
            if (!Files.exists(meta) || o.overwrite()) {
                todo.add(f);
                continue;
            }
            JsonNode m = JSON.readTree(meta.toFile());
            if (!cb.sha256().equals(m.path("codebook_sha256").asText()) || m.path("muq_layer").asInt(-1) != layer) {
                throw new IllegalStateException(o.output() + " already holds sketches of codebook " + m.path("codebook_sha256").asText()
                        + " (MuQ layer " + m.path("muq_layer").asInt() + ", e.g. " + meta.getFileName() + "); this run uses codebook "
                        + cb.sha256() + " (layer " + layer + "): sketches of different codebooks must not mix; choose another --output or "
                        + "pass --overwrite");
            }
            if (m.path("source_bytes").asLong() == Files.size(f) && m.path("source_mtime").asLong() == Files.getLastModifiedTime(f).toMillis()
                    && sketchIntact(o.output().resolve(idx(o.dataDir(), f) + ".sketch.npy"), m, log)) {
                cached++;
            } else {
                todo.add(f);
            }
        }
        long frames = 0;
        try (Progress bar = showProgress ? Progress.start("extract-sketch", todo.size(), "files") : Progress.silent()) {
            for (Path f : todo) {
                AudioReader.Mono audio = reader.read(f);
                int[] ids = enc.ids(audio, f);
                long latent = SketchAlignment.latentFrames(audio.samples().length, audio.sampleRate());
                int[] aligned = SketchAlignment.align(ids, latent);
                if (vocab != null) vocab.requireTokens(aligned, false);
                String id = idx(o.dataDir(), f);
                Path npy = o.output().resolve(id + ".sketch.npy");
                Npy.writeInt32(npy, aligned);
                ObjectNode m = JSON.createObjectNode();
                m.put("idx", id);
                m.put("source", o.dataDir().relativize(f).toString());
                m.put("source_bytes", Files.size(f));
                m.put("source_mtime", Files.getLastModifiedTime(f).toMillis());
                m.put("codebook_sha256", cb.sha256());
                m.put("codebook_size", cb.size());
                m.put("distance", cb.distance().id());
                m.put("muq_layer", layer);
                m.put("muq_model", o.muqModel().getFileName().toString());
                m.put("sample_rate", 24000);
                m.put("frame_rate", 25);
                m.put("frames", aligned.length);
                m.put("muq_frames", ids.length);
                m.put("sketch_bytes", Files.size(npy));
                m.put("sketch_sha256", Sha256.of(npy));
                AtomicFiles.writeString(o.output().resolve(id + ".meta.json"), JSON.writeValueAsString(m));
                frames += aligned.length;
                bar.step(1);
            }
        }
        log.printf(Locale.ROOT, "extract-sketch: %d file(s) written, %d cached, %d frames (codebook %s…, layer %d) in %s%n", todo.size(),
                cached, frames, cb.sha256().substring(0, 12), layer, o.output());
        return new Result(todo.size(), cached, frames, cb.sha256(), layer);
    }

    /**
     * MuQ hidden states of one layer → nearest codebook ids at 25 Hz, before alignment to the latent frames: what
     * {@code extract-sketch} and {@code cache} compute per song.
     */
    public record Encoder(MuqModel muq, CodebookFile.Loaded codebook, int layer) {
        /** Reads the codebook and checks it against the MuQ model: its layer ({@code layer} negative = the codebook's) and width. */
        public static Encoder open(Path codebookFile, int layer, MuqModel muq, Path muqPath) throws IOException {
            CodebookFile.Loaded cb = CodebookFile.read(codebookFile);
            int l = layer >= 0 ? layer : cb.muqLayer();
            if (l < 0) throw new IllegalArgumentException(codebookFile + " does not record its MuQ layer: pass --layer");
            if (cb.muqLayer() >= 0 && l != cb.muqLayer()) {
                throw new IllegalArgumentException("--layer " + l + " but " + codebookFile + " was trained on MuQ layer " + cb.muqLayer()
                        + ": its codes mean nothing for other layers; drop --layer or train a codebook for layer " + l);
            }
            if (cb.dim() != muq.config().encoderDim()) {
                throw new IllegalArgumentException("codebook " + codebookFile + " has vectors of " + cb.dim() + " but MuQ " + muqPath
                        + " gives " + muq.config().encoderDim());
            }
            return new Encoder(muq, cb, l);
        }

        /** The ids of one song (mono at any rate; resampled to MuQ's 24 kHz). */
        public int[] ids(AudioReader.Mono audio, Path file) {
            float[] h = muq.encode(AudioReader.at24k(audio, file), layer);
            return codebook.nearest(h, h.length / codebook.dim());
        }
    }

    /** The cache id of {@code file}: its path under {@code dataDir} without extension, separators as "__". */
    public static String idx(Path dataDir, Path file) {
        String rel = dataDir.relativize(file).toString().replace(java.io.File.separatorChar, '/');
        int dot = rel.lastIndexOf('.');
        return (dot > rel.lastIndexOf('/') ? rel.substring(0, dot) : rel).replace("/", "__");
    }

    /**
     * Whether a cached sketch file is the one its meta describes (size and SHA-256), so that a truncated or altered
     * {@code .sketch.npy} is recomputed rather than counted as done. A meta without the checksum (written before it was recorded)
     * counts as not intact.
     */
    static boolean sketchIntact(Path npy, JsonNode meta, PrintStream log) throws IOException {
        if (!Files.isRegularFile(npy)) return false;
        long size = Files.size(npy);
        boolean ok = meta.path("sketch_bytes").asLong(-1) == size && Sha256.of(npy).equals(meta.path("sketch_sha256").asText());
        if (!ok) log.println("extract-sketch: " + npy + " does not match its meta (size or SHA-256): recomputing it");
        return ok;
    }

    /** Reads a cached sketch, refusing it unless its meta records {@code codebookSha} (how training consumes the cache). */
    public static int[] readSketch(Path dir, String idx, String codebookSha) throws IOException {
        JsonNode m = JSON.readTree(dir.resolve(idx + ".meta.json").toFile());
        String got = m.path("codebook_sha256").asText();
        if (!got.equals(codebookSha)) {
            throw new IllegalStateException("sketch " + idx + " in " + dir + " was made with codebook " + got + ", not the configured "
                    + codebookSha + ": re-extract it with that codebook");
        }
        return Npy.readInts(dir.resolve(idx + ".sketch.npy"));
    }
}
