package bloom4j.models.vq;

import bloom4j.tensor.DType;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The VQ codebook file: safetensors with
 * <pre>
 *   codebook      F32 [K, D]   the codes E
 *   cluster_size  F32 [K]      EMA state N (optional)
 *   embed_avg     F32 [K, D]   EMA state M (optional)
 *   __metadata__  muq_model_id, muq_layer, sample_rate 24000, frame_rate 25, distance, decay, eps, kmeans_init, dead_code_threshold,
 *                 num_frames_seen, steps, codebook_sha256 (of the codebook tensor's little-endian bytes), plus run fields
 * </pre>
 * {@link #read} also imports the PyTorch files of the forks and of vector-quantize-pytorch: a bare {@code VectorQuantize} state dict
 * or one under a prefix ({@code …_codebook.embed} {@code [1, K, D]} or {@code [K, D]}, with {@code embed_avg}/{@code cluster_size}
 * beside it), including a {@code {"state_dict": …}} wrapper. A file with no codebook tensor is an error: the fork's {@code strict=False}
 * load silently kept a random codebook.
 */
public final class CodebookFile {
    public static final String CODEBOOK = "codebook";
    public static final String CLUSTER_SIZE = "cluster_size";
    public static final String EMBED_AVG = "embed_avg";

    private CodebookFile() {}

    /** A codebook read from disk. {@code clusterSize}/{@code embedAvg} are null when the file holds no EMA state. */
    public record Loaded(Path file, int size, int dim, float[] codebook, float[] clusterSize, float[] embedAvg,
                         Map<String, String> metadata, String sha256) {

        /** The distance recorded in the file (euclidean when absent, vector-quantize-pytorch's default). */
        public Distance distance() {
            String d = metadata.get("distance");
            return d == null ? Distance.EUCLIDEAN : Distance.parse(d);
        }

        /** The MuQ hidden-state index the codebook was trained on, or -1 when the file does not say. */
        public int muqLayer() {
            String l = metadata.get("muq_layer");
            return l == null ? -1 : Integer.parseInt(l);
        }

        public boolean hasEmaState() { return clusterSize != null && embedAvg != null; }

        /** Nearest-code lookup of {@code n} rows {@code [n, dim]} (l2-normalised first for cosine). */
        public int[] nearest(float[] x, int n) {
            float[] rows = distance() == Distance.COSINE ? NearestCode.l2normalize(x, n, dim) : x;
            return NearestCode.search(rows, n, codebook, size, dim, distance(), false).indices();
        }
    }

    /** Writes the quantizer's state atomically; {@code extra} metadata (MuQ model id and layer, run position) is added as given. */
    public static String write(Path file, EmaVectorQuantizer q, Map<String, String> extra) throws IOException {
        VqConfig c = q.config();
        int k = c.codebookSize(), d = c.dim();
        float[] e = q.embed();
        String sha = sha256(e);
        Map<String, RawTensor> t = new LinkedHashMap<>();
        t.put(CODEBOOK, f32(e, k, d));
        t.put(CLUSTER_SIZE, f32(q.clusterSize(), k));
        t.put(EMBED_AVG, f32(q.embedAvg(), k, d));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "bloom4j-vq-codebook");
        meta.put("sample_rate", "24000");
        meta.put("frame_rate", "25");
        meta.put("distance", c.distance().id());
        meta.put("decay", Double.toString(c.decay()));
        meta.put("eps", Double.toString(c.eps()));
        meta.put("kmeans_init", Boolean.toString(c.kmeansInit()));
        meta.put("kmeans_iters", Integer.toString(c.kmeansIters()));
        meta.put("dead_code_threshold", Double.toString(c.thresholdEmaDeadCode()));
        meta.put("commitment_weight", Double.toString(c.commitmentWeight()));
        meta.put("initted", Boolean.toString(q.initted()));
        meta.put("num_frames_seen", Long.toString(q.framesSeen()));
        meta.put("steps", Long.toString(q.steps()));
        meta.putAll(extra);
        meta.put("codebook_sha256", sha);
        SafeTensorsWriter.write(file, t, meta);
        return sha;
    }

    /** Reads a bloom4j codebook file, or imports a vector-quantize-pytorch / fork checkpoint (see the class comment). */
    public static Loaded read(Path file) throws IOException {
        try (TensorSource src = Checkpoints.open(file)) {
            Map<String, String> meta = src instanceof SafeTensorsFile f ? new LinkedHashMap<>(f.metadata()) : new LinkedHashMap<>();
            String embedKey = null, prefix = "";
            if (src.contains(CODEBOOK)) {
                embedKey = CODEBOOK;
            } else {
                for (String n : src.names()) {
                    if (n.equals("_codebook.embed") || n.endsWith("._codebook.embed")) {
                        embedKey = n;
                        prefix = n.substring(0, n.length() - "embed".length());
                        break;
                    }
                }
            }
            if (embedKey == null) {
                List<String> names = src.names();
                throw new IOException(file + " holds no VQ codebook: expected a tensor 'codebook' [K, D] (bloom4j) or '_codebook.embed' "
                        + "[1, K, D] (vector-quantize-pytorch), found " + (names.size() > 8 ? names.subList(0, 8) + "…" : names));
            }
            long[] s = src.info(embedKey).shape();
            if (s.length == 3 && s[0] == 1) s = new long[] {s[1], s[2]};
            if (s.length != 2 || s[0] < 1 || s[1] < 1) {
                throw new IOException(file + ": '" + embedKey + "' is " + Arrays.toString(src.info(embedKey).shape())
                        + ", expected [K, D] or [1, K, D] (one codebook; multi-head quantizers are not supported)");
            }
            int k = Math.toIntExact(s[0]), d = Math.toIntExact(s[1]);
            float[] e = floats(src, embedKey);
            String csKey = embedKey.equals(CODEBOOK) ? CLUSTER_SIZE : prefix + "cluster_size";
            String avgKey = embedKey.equals(CODEBOOK) ? EMBED_AVG : prefix + "embed_avg";
            float[] cs = src.contains(csKey) ? floats(src, csKey) : null;
            float[] avg = src.contains(avgKey) ? floats(src, avgKey) : null;
            if (cs != null && cs.length != k) throw new IOException(file + ": '" + csKey + "' has " + cs.length + " values, expected " + k);
            if (avg != null && avg.length != e.length) {
                throw new IOException(file + ": '" + avgKey + "' has " + avg.length + " values, expected " + k + "×" + d);
            }
            String sha = sha256(e);
            String recorded = meta.get("codebook_sha256");
            if (recorded != null && !recorded.equals(sha)) {
                throw new IOException(file + ": the codebook's SHA-256 is " + sha + " but the file records " + recorded
                        + "; the file was modified or is corrupt");
            }
            if (!embedKey.equals(CODEBOOK)) meta.putIfAbsent("imported_from", embedKey);
            return new Loaded(file, k, d, e, cs, avg, Map.copyOf(meta), sha);
        }
    }

    /** SHA-256 of float32 little-endian bytes: the codebook identity recorded in every sketch file. */
    public static String sha256(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static float[] floats(TensorSource src, String key) throws IOException {
        return src.load(key, DataType.FLOAT).dup('c').data().asFloat();
    }

    private static RawTensor f32(float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        b.flip();
        return new RawTensor(DType.F32, shape, b);
    }
}
