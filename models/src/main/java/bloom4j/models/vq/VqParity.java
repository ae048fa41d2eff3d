package bloom4j.models.vq;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;

/** The two VQ parity kinds: {@link Ema} ({@code vq-ema}) and {@link Nearest} ({@code vq-nearest}). */
public final class VqParity {
    private VqParity() {}

    /** The fixture's {@code config} (upstream {@code VectorQuantize} arguments) as a {@link VqConfig}. */
    static VqConfig config(JsonNode c) {
        double threshold = c.path("threshold_ema_dead_code").asDouble(0);
        JsonNode reset = c.path("reset_cluster_size");
        return new VqConfig(c.path("dim").asInt(), c.path("codebook_size").asInt(),
                c.path("use_cosine_sim").asBoolean(false) ? Distance.COSINE : Distance.EUCLIDEAN, c.path("decay").asDouble(0.8),
                c.path("eps").asDouble(1e-5), threshold, reset.isNumber() ? reset.asDouble() : threshold,
                c.path("kmeans_init").asBoolean(false), c.path("kmeans_iters").asInt(10), c.path("commitment_weight").asDouble(1.0));
    }

    /** The quantizer state of a {@code VectorQuantize.state_dict()} (bare keys {@code _codebook.*}). */
    static EmaVectorQuantizer load(TensorSource src, VqConfig cfg) throws IOException {
        float[] embed = floats(src, "_codebook.embed");
        float[] avg = floats(src, "_codebook.embed_avg");
        float[] cs = floats(src, "_codebook.cluster_size");
        boolean initted = !src.contains("_codebook.initted") || src.load("_codebook.initted", DataType.FLOAT).getDouble(0) != 0;
        return EmaVectorQuantizer.of(cfg, embed, avg, cs, initted);
    }

    private static float[] floats(TensorSource src, String key) throws IOException {
        return src.load(key, DataType.FLOAT).dup('c').data().asFloat();
    }

    static INDArray longs(int[] v, long... shape) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) l[i] = v[i];
        return Nd4j.createFromArray(l).reshape(shape);
    }

    static INDArray floats(float[] v, long... shape) { return Nd4j.create(v, shape, 'c'); }

    /**
     * Parity kind {@code vq-ema}: an eval lookup, three EMA training passes (recorded dead-code draws replayed) with the codebook state
     * after each, and an eval lookup after training, against vector-quantize-pytorch 1.14.8.
     */
    public static final class Ema implements ParityKind {
        @Override public String kind() { return "vq-ema"; }

        @Override public String description() {
            return "vector-quantize-pytorch 1.14.8 EMA VectorQuantize: eval lookup, training passes (EMA, Laplace smoothing, dead codes)";
        }

        @Override public void run(Fixture f, ParityReport report) throws Exception {
            VqConfig cfg = config(f.config());
            EmaVectorQuantizer vq;
            try (TensorSource src = Checkpoints.open(f.checkpoint())) {
                vq = load(src, cfg);
            }
            int d = cfg.dim();
            if (f.io().contains("eval_indices")) evalPass(f, report, vq, "x_eval", "eval");
            for (int p = 0; f.io().contains("x_train" + p); p++) {
                INDArray x = f.tensor("x_train" + p);
                long[] shape = x.shape();
                int n = Math.toIntExact(x.length() / d);
                String drawKey = "dead_code_rows_p" + p;
                int[] draws = f.io().contains(drawKey) ? f.tensor(drawKey).toIntVector() : null;
                final int pass = p;
                RowSampler replay = (rows, count) -> {
                    if (draws == null) throw new IllegalStateException("pass " + pass + " expired codes but the fixture recorded no draw");
                    if (draws.length != count) {
                        throw new IllegalStateException("pass " + pass + ": " + count + " codes expired, the fixture recorded " + draws.length);
                    }
                    return draws.clone();
                };
                EmaVectorQuantizer.TrainStep s = vq.train(x.castTo(DataType.FLOAT).dup('c').data().asFloat(), n, replay);
                String t = "train" + p;
                report.compare(t + "_quantized", floats(s.quantized(), shape), f.tensor(t + "_quantized"));
                report.compare(t + "_indices", longs(s.indices(), shape[0], shape[1]), f.tensor(t + "_indices"));
                report.compare(t + "_loss", floats(new float[] {s.commitmentLoss()}, 1), f.tensor(t + "_loss"));
                int k = cfg.codebookSize();
                report.compare(t + "_embed", floats(vq.embed(), 1, k, d), f.tensor(t + "_embed"));
                report.compare(t + "_cluster_size", floats(vq.clusterSize(), 1, k), f.tensor(t + "_cluster_size"));
                report.compare(t + "_embed_avg", floats(vq.embedAvg(), 1, k, d), f.tensor(t + "_embed_avg"));
                if (f.io().contains(t + "_cluster_size_before_expire")) {
                    report.compare(t + "_cluster_size_before_expire", floats(s.clusterSizeBeforeExpire(), 1, k),
                            f.tensor(t + "_cluster_size_before_expire"));
                    int[] mask = new int[k];
                    for (int c = 0; c < k; c++) mask[c] = s.expired()[c] ? 1 : 0;
                    report.compare(t + "_expired_mask", longs(mask, 1, k), f.tensor(t + "_expired_mask"));
                }
            }
            if (f.io().contains("eval_after_indices")) evalPass(f, report, vq, "x_eval", "eval_after");
        }

        private static void evalPass(Fixture f, ParityReport report, EmaVectorQuantizer vq, String input, String out) throws IOException {
            INDArray x = f.tensor(input);
            long[] shape = x.shape();
            int n = Math.toIntExact(x.length() / vq.config().dim());
            EmaVectorQuantizer.Lookup l = vq.quantize(x.castTo(DataType.FLOAT).dup('c').data().asFloat(), n);
            report.compare(out + "_quantized", floats(l.quantized(), shape), f.tensor(out + "_quantized"));
            report.compare(out + "_indices", longs(l.indices(), shape[0], shape[1]), f.tensor(out + "_indices"));
            report.compare(out + "_loss", floats(new float[] {0f}, 1), f.tensor(out + "_loss"));   // 1.14.8: no loss in eval
        }
    }

    /** Parity kind {@code vq-nearest}: eval nearest-code lookup (indices and the top-2 scores) at dim 1024. */
    public static final class Nearest implements ParityKind {
        @Override public String kind() { return "vq-nearest"; }

        @Override public String description() {
            return "vector-quantize-pytorch 1.14.8 nearest-code lookup (euclidean expanded-form distance or cosine), indices and top-2 scores";
        }

        @Override public void run(Fixture f, ParityReport report) throws Exception {
            VqConfig cfg = config(f.config());
            float[] embed;
            try (TensorSource src = Checkpoints.open(f.checkpoint())) {
                embed = floats(src, "_codebook.embed");
            }
            INDArray x = f.tensor("x");
            int d = cfg.dim(), n = Math.toIntExact(x.length() / d);
            float[] rows = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
            if (cfg.distance() == Distance.COSINE) rows = NearestCode.l2normalize(rows, n, d);
            NearestCode.Result r = NearestCode.search(rows, n, embed, cfg.codebookSize(), d, cfg.distance(), true);
            report.compare("indices", longs(r.indices(), x.shape()[0], x.shape()[1]), f.tensor("indices"));
            float[] top2 = new float[2 * n];
            for (int i = 0; i < n; i++) {
                top2[2 * i] = r.best()[i];
                top2[2 * i + 1] = r.second()[i];
            }
            report.compare("top2_scores", floats(top2, n, 2), f.tensor("top2_scores"));
        }
    }
}
