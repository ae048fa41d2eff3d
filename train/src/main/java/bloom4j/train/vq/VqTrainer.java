package bloom4j.train.vq;

import bloom4j.models.songbloom.SketchVocabulary;
import bloom4j.models.vq.CodebookFile;
import bloom4j.models.vq.EmaVectorQuantizer;
import bloom4j.models.vq.RowSampler;
import bloom4j.models.vq.VqConfig;
import bloom4j.tensor.DType;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Progress;
import bloom4j.tensor.util.Sha256;
import bloom4j.train.sketch.SketchVocabularyGuard;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Trains a sketch codebook: an {@link EmaVectorQuantizer} (vector-quantize-pytorch 1.14.8 semantics) over the MuQ frames of every
 * audio file of a folder, for a number of epochs.
 *
 * <ul>
 *   <li><b>Order</b>: each epoch visits the files in a seeded shuffle; a file's frames are cut into batches of at most
 *       {@code batchFrames} rows, one EMA step each. Dead-code draws are seeded by the step number.</li>
 *   <li><b>Features</b> are computed once and cached next to the output ({@code <output>.features/}), keyed by file, size, time,
 *       layer and model, so later epochs and later runs skip MuQ.</li>
 *   <li><b>Resuming</b>: after every file the whole state (codebook, EMA buffers, epoch, position, step) is written atomically to
 *       {@code <output>.resume.safetensors}; rerunning the same command continues from there, bit-exactly. A run with other options
 *       or other data refuses the state file instead of mixing.</li>
 *   <li><b>Output</b>: the codebook file (written atomically), then the state file is removed.</li>
 * </ul>
 */
public final class VqTrainer {
    private VqTrainer() {}

    /** Usage of the codebook over the last epoch. */
    public record Usage(int codes, int used, double deadRatio, double entropyBits, double top1Share, double meanLoss) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "%d of %d codes used (dead %.1f%%), usage entropy %.2f bits (max %.2f), top-1 share %.2f%%, "
                    + "commitment loss %.4g", used, codes, 100 * deadRatio, entropyBits, Math.log(codes) / Math.log(2), 100 * top1Share, meanLoss);
        }
    }

    /**
     * Bytes the EMA quantizer needs for K codes of dimension D and batches of F frames: codebook, EMA sums and an update's copies
     * (4 × K × D floats), the distance matrix and its temporaries (3 × F × K floats), cluster sizes and counts.
     */
    static long bytesNeeded(long k, long d, long frames) {
        return 4L * (4 * k * d + 3 * frames * k + 4 * k);
    }

    /** Memory ND4J can still allocate: its off-heap limit (or the machine's RAM, if smaller) less what it holds now. */
    static long availableBytes() {
        long limit = org.bytedeco.javacpp.Pointer.maxBytes();
        long physical = org.bytedeco.javacpp.Pointer.totalPhysicalBytes();
        if (physical > 0) limit = limit > 0 ? Math.min(limit, physical) : physical;
        return Math.max(0, limit - org.bytedeco.javacpp.Pointer.totalBytes());
    }

    /** Refuses, before any work, a codebook that cannot fit, saying what does. */
    static void requireMemoryFor(long k, long d, long frames, long available) {
        long need = bytesNeeded(k, d, frames);
        if (need <= available) return;
        long fits = Math.max(0, available / (4 * (4 * d + 3 * frames + 4)));
        throw new IllegalArgumentException(String.format(Locale.ROOT, "--codebook-size %d with %d-dimensional MuQ frames and "
                + "--batch-frames %d needs about %.1f GB, but only %.1f GB can be allocated (ND4J off-heap limit or RAM): at most "
                + "%d codes fit; lower --codebook-size or --batch-frames, or raise -Dorg.bytedeco.javacpp.maxbytes", k, d, frames,
                need / 1e9, available / 1e9, fits));
    }

    public record Result(Path codebook, String sha256, long steps, long frames, boolean resumed, Usage usage) {}

    public static Result train(VqTrainOptions o, FrameSource source, List<Path> files, boolean showProgress, PrintStream log)
            throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no audio files in " + o.dataDir());
        if (o.songbloomModel() != null) {
            SketchVocabulary v = SketchVocabularyGuard.read(o.songbloomModel());
            SketchVocabularyGuard.requireFits(v, o.codebookSize(), o.songbloomModel(), "being trained (--codebook-size)");
            log.println("model " + o.songbloomModel() + ": sketch vocabulary of " + v.numCodes() + " codes; the codebook's "
                    + o.codebookSize() + " fit");
        }
        requireMemoryFor(o.codebookSize(), source.dim(), o.batchFrames(), availableBytes());
        VqConfig cfg = new VqConfig(source.dim(), o.codebookSize(), o.distance(), o.decay(), 1e-5, o.deadCodeThreshold(),
                o.deadCodeThreshold(), o.kmeansInit(), o.kmeansIters(), 1.0);
        Path state = sibling(o.output(), ".resume.safetensors");
        int stale = AtomicFiles.removeStale(o.output()) + AtomicFiles.removeStale(state)
                + AtomicFiles.removeStalePartials(sibling(o.output(), ".features"));
        if (stale > 0) log.println("removed " + stale + " partial file(s) an interrupted run left next to " + o.output());
        String dataSha = dataSha(o.dataDir(), files);
        String identity = o.identity() + "|" + source.describe();

        EmaVectorQuantizer vq;
        int startEpoch = 0, startFile = 0;
        boolean resumed = false;
        if (Files.exists(state)) {
            CodebookFile.Loaded s = CodebookFile.read(state);
            Map<String, String> m = s.metadata();
            if (!identity.equals(m.get("run_identity")) || !dataSha.equals(m.get("data_sha256"))) {
                throw new IllegalStateException(state + " is the state of another run (" + m.get("run_identity") + ", data "
                        + m.get("data_sha256") + "); this run is " + identity + ", data " + dataSha
                        + ": rerun with the same options and data to resume, or delete it to start over");
            }
            vq = EmaVectorQuantizer.of(cfg, s.codebook(), s.embedAvg(), s.clusterSize(), Boolean.parseBoolean(m.get("initted")));
            vq.setProgress(Long.parseLong(m.get("steps")), Long.parseLong(m.get("num_frames_seen")));
            startEpoch = Integer.parseInt(m.get("resume_epoch"));
            startFile = Integer.parseInt(m.get("resume_file"));
            resumed = true;
            log.printf(Locale.ROOT, "resuming from %s: epoch %d, file %d, step %d%n", state, startEpoch + 1, startFile, vq.steps());
        } else {
            vq = EmaVectorQuantizer.create(cfg, o.seed());
        }

        Path cacheDir = sibling(o.output(), ".features");
        long[] counts = new long[o.codebookSize()];
        double lossSum = 0;
        long lossSteps = 0;
        long total = (long) o.epochs() * files.size();
        try (Progress bar = showProgress ? Progress.start("train-vq (" + files.size() + " files × " + o.epochs() + " epochs)", total,
                "file passes") : Progress.silent()) {
            bar.set((long) startEpoch * files.size() + startFile);
            for (int e = startEpoch; e < o.epochs(); e++) {
                List<Path> order = new ArrayList<>(files);
                Collections.shuffle(order, new Random(o.seed() * 31 + e));
                if (e == o.epochs() - 1) java.util.Arrays.fill(counts, 0);
                for (int i = e == startEpoch ? startFile : 0; i < order.size(); i++) {
                    float[] x = cachedFrames(order.get(i), source, cacheDir);
                    int d = source.dim(), n = x.length / d;
                    for (int b0 = 0; b0 < n; b0 += o.batchFrames()) {
                        int rows = Math.min(o.batchFrames(), n - b0);
                        float[] batch = java.util.Arrays.copyOfRange(x, b0 * d, (b0 + rows) * d);
                        EmaVectorQuantizer.TrainStep s = vq.train(batch, rows, RowSampler.seeded(o.seed() * 1_000_003L + vq.steps()));
                        if (e == o.epochs() - 1) {
                            for (int c : s.indices()) counts[c]++;
                            lossSum += s.commitmentLoss();
                            lossSteps++;
                        }
                    }
                    boolean last = e == o.epochs() - 1 && i == order.size() - 1;
                    if (!last) writeState(state, vq, identity, dataSha, i + 1 == order.size() ? e + 1 : e, (i + 1) % order.size(), source);
                    bar.step(1);
                }
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("muq_model_id", source.describe());
        meta.put("muq_layer", Integer.toString(o.layer()));
        meta.put("epochs", Integer.toString(o.epochs()));
        meta.put("data_files", Integer.toString(files.size()));
        meta.put("data_sha256", dataSha);
        meta.put("seed", Long.toString(o.seed()));
        String sha = CodebookFile.write(o.output(), vq, meta);
        Files.deleteIfExists(state);
        return new Result(o.output(), sha, vq.steps(), vq.framesSeen(), resumed, usage(counts, lossSteps == 0 ? 0 : lossSum / lossSteps));
    }

    private static void writeState(Path state, EmaVectorQuantizer vq, String identity, String dataSha, int epoch, int file,
                                   FrameSource source) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("run_identity", identity);
        meta.put("data_sha256", dataSha);
        meta.put("resume_epoch", Integer.toString(epoch));
        meta.put("resume_file", Integer.toString(file));
        meta.put("muq_model_id", source.describe());
        CodebookFile.write(state, vq, meta);
    }

    static Usage usage(long[] counts, double meanLoss) {
        long total = 0, max = 0;
        int used = 0;
        for (long c : counts) {
            total += c;
            max = Math.max(max, c);
            if (c > 0) used++;
        }
        double h = 0;
        for (long c : counts) if (c > 0) h -= (double) c / total * Math.log((double) c / total) / Math.log(2);
        return new Usage(counts.length, used, 1 - (double) used / counts.length, h, total == 0 ? 0 : (double) max / total, meanLoss);
    }

    /** Frames of {@code file}, from the feature cache when it holds them for this file, size, time and source. */
    static float[] cachedFrames(Path file, FrameSource source, Path cacheDir) throws IOException {
        String key = sha256((file.toAbsolutePath() + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis() + "|"
                + source.describe()).getBytes(StandardCharsets.UTF_8));
        Path cached = cacheDir.resolve(key + ".safetensors");
        if (Files.exists(cached)) {
            try (SafeTensorsFile f = SafeTensorsFile.open(cached)) {
                return f.loadFloat("frames").dup('c').data().asFloat();
            }
        }
        float[] x = source.frames(file);
        Files.createDirectories(cacheDir);
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) b.putFloat(v);
        b.flip();
        SafeTensorsWriter.write(cached, Map.of("frames", new RawTensor(DType.F32, new long[] {x.length / source.dim(), source.dim()}, b)),
                Map.of("source", file.toString(), "frames_of", source.describe()));
        return x;
    }

    /** Audio files under {@code dir} that {@code accepts} takes, sorted by path. */
    public static List<Path> audioFiles(Path dir, java.util.function.Predicate<Path> accepts) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(accepts).sorted().toList();
        }
    }

    private static String dataSha(Path dir, List<Path> files) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Path f : files) b.append(dir.relativize(f)).append('|').append(Files.size(f)).append('\n');
        return sha256(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    static Path sibling(Path file, String suffix) {
        Path abs = file.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + suffix);
    }

    static String sha256(byte[] bytes) { return Sha256.of(bytes); }
}
