package bloom4j.models.vq;

import java.util.Arrays;
import java.util.Random;

/**
 * A single-codebook vector quantizer whose codes move by exponential moving averages, exactly as vector-quantize-pytorch 1.14.8
 * {@code VectorQuantize} with one head, no projection, {@code ema_update=True}, {@code learnable_codebook=False}
 * ({@code vector_quantize_pytorch.py}: {@code EuclideanCodebook} L265-512, {@code CosineSimCodebook} L514-686, {@code VectorQuantize}
 * L690-1010; tag 1.14.8, commit e244d47).
 *
 * <p>State (upstream buffer names): {@code embed} E {@code [K, D]}, {@code embed_avg} M {@code [K, D]}, {@code cluster_size} N
 * {@code [K]}, {@code initted}. A training step on a batch X {@code [n, D]}:
 * <pre>
 *   x      = X, or l2norm(X) for cosine
 *   if k-means init and not initted: E = kmeans(x); M = E·bins; N = bins
 *   idx    = nearest(x, E)                               with the codebook BEFORE this step
 *   out    = x + (E[idx] − x)   (straight-through value);  loss = mse(E[idx], x) · commitment_weight
 *   N      = lerp(N, counts, 1 − decay);  M = lerp(M, Σ onehot·x, 1 − decay)         (float32, w = (float)(1 − decay))
 *   Ñ      = (N + eps) / (ΣN + K·eps) · ΣN                                            (Laplace smoothing)
 *   E      = M / Ñ    (cosine: l2norm(l2norm(M / Ñ)), normalised twice as upstream)
 *   dead   = N < threshold: E[c] = sample, M[c] = sample·reset, N[c] = reset          (samples: x rows, l2norm again for cosine)
 * </pre>
 * The only random draw is the choice of batch rows ({@link RowSampler}), injectable for exact replay. Evaluation only looks up codes
 * and reports no loss (1.14.8 computes the commitment loss in training mode only).
 */
public final class EmaVectorQuantizer {
    private final VqConfig cfg;
    private final float[] embed;        // [K, D]
    private final float[] embedAvg;     // [K, D]
    private final float[] clusterSize;  // [K]
    private boolean initted;
    private long steps;
    private long framesSeen;

    private EmaVectorQuantizer(VqConfig cfg, float[] embed, float[] embedAvg, float[] clusterSize, boolean initted) {
        int k = cfg.codebookSize(), d = cfg.dim();
        check("embed", embed, (long) k * d);
        check("embed_avg", embedAvg, (long) k * d);
        check("cluster_size", clusterSize, k);
        this.cfg = cfg;
        this.embed = embed;
        this.embedAvg = embedAvg;
        this.clusterSize = clusterSize;
        this.initted = initted;
    }

    private static void check(String name, float[] a, long want) {
        if (a == null || a.length != want) {
            throw new IllegalArgumentException(name + " holds " + (a == null ? 0 : a.length) + " values, expected " + want);
        }
    }

    /**
     * A new quantizer as upstream constructs it: E drawn by {@code kaiming_uniform_} on {@code [1, K, D]} (uniform in ±sqrt(6/(K·D)),
     * l2-normalised for cosine), or zeros awaiting k-means; M = E; N = 0.
     */
    public static EmaVectorQuantizer create(VqConfig cfg, long seed) {
        int k = cfg.codebookSize(), d = cfg.dim();
        float[] e = new float[k * d];
        if (!cfg.kmeansInit()) {
            Random r = new Random(seed);
            double bound = Math.sqrt(6.0 / ((double) k * d));
            for (int i = 0; i < e.length; i++) e[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
            if (cfg.distance() == Distance.COSINE) e = NearestCode.l2normalize(e, k, d);
        }
        return new EmaVectorQuantizer(cfg, e, e.clone(), new float[k], !cfg.kmeansInit());
    }

    /** A quantizer over existing state (arrays are copied). */
    public static EmaVectorQuantizer of(VqConfig cfg, float[] embed, float[] embedAvg, float[] clusterSize, boolean initted) {
        return new EmaVectorQuantizer(cfg, embed.clone(), embedAvg.clone(), clusterSize.clone(), initted);
    }

    public VqConfig config() { return cfg; }

    /** Whether the codebook is initialised (false only before k-means has seen its first batch). */
    public boolean initted() { return initted; }

    /** Training steps taken by this object (not persisted by upstream; bloom4j keeps it for resuming). */
    public long steps() { return steps; }

    /** Training rows seen by this object, see {@link #steps()}. */
    public long framesSeen() { return framesSeen; }

    /** Restores the counters of a resumed run. */
    public void setProgress(long steps, long framesSeen) {
        this.steps = steps;
        this.framesSeen = framesSeen;
    }

    /** A copy of E {@code [K, D]}. */
    public float[] embed() { return embed.clone(); }

    /** A copy of M {@code [K, D]}. */
    public float[] embedAvg() { return embedAvg.clone(); }

    /** A copy of N {@code [K]}. */
    public float[] clusterSize() { return clusterSize.clone(); }

    /** The lookup of an evaluation forward. */
    public record Lookup(int[] indices, float[] quantized) {}

    /** One training forward: what it returned and what the dead-code test saw. */
    public record TrainStep(int[] indices, float[] quantized, float commitmentLoss, float[] clusterSizeBeforeExpire,
                            boolean[] expired) {
        public int expiredCount() {
            int c = 0;
            for (boolean b : expired) if (b) c++;
            return c;
        }
    }

    /** Evaluation: nearest codes of {@code x [n, D]} and {@code E[idx]}; the codebook is not changed. */
    public Lookup quantize(float[] x, int n) {
        requireInitted();
        float[] xin = prepare(x, n);
        int[] idx = NearestCode.search(xin, n, embed, cfg.codebookSize(), cfg.dim(), cfg.distance(), false).indices();
        return new Lookup(idx, gather(idx));
    }

    /** One training step on {@code x [n, D]} (see the class comment); {@code sampler} supplies the dead-code and k-means draws. */
    public TrainStep train(float[] x, int n, RowSampler sampler) {
        int k = cfg.codebookSize(), d = cfg.dim();
        float[] xin = prepare(x, n);
        if (!initted) kmeansInit(xin, n, sampler);

        int[] idx = NearestCode.search(xin, n, embed, k, d, cfg.distance(), false).indices();
        float[] q = gather(idx);
        float[] out = new float[q.length];
        double se = 0;
        for (int i = 0; i < q.length; i++) {
            out[i] = xin[i] + (q[i] - xin[i]);       // x + sg(q - x): the value of the straight-through output
            double diff = (double) q[i] - xin[i];
            se += diff * diff;
        }
        float loss = (float) ((float) (se / q.length) * cfg.commitmentWeight());

        // EMA of counts and sums (torch lerp_ with a float32 weight: self + w·(end − self)).
        float w = (float) (1.0 - cfg.decay());
        float[] counts = new float[k];
        float[] sums = new float[k * d];
        for (int i = 0; i < n; i++) {
            int c = idx[i];
            counts[c] += 1f;
            for (int j = 0; j < d; j++) sums[c * d + j] += xin[i * d + j];
        }
        for (int c = 0; c < k; c++) clusterSize[c] = clusterSize[c] + w * (counts[c] - clusterSize[c]);
        for (int i = 0; i < embedAvg.length; i++) embedAvg[i] = embedAvg[i] + w * (sums[i] - embedAvg[i]);

        // Laplace smoothing, then E = M / Ñ.
        double total = 0;
        for (float c : clusterSize) total += c;
        float tot = (float) total;
        float denom = tot + (float) (k * cfg.eps());
        float epsF = (float) cfg.eps();
        for (int c = 0; c < k; c++) {
            float smoothed = (clusterSize[c] + epsF) / denom * tot;
            for (int j = 0; j < d; j++) embed[c * d + j] = embedAvg[c * d + j] / smoothed;
        }
        if (cfg.distance() == Distance.COSINE) normalizeRowsInPlace(embed, k, d, 2);

        // Dead codes.
        float[] before = clusterSize.clone();
        boolean[] expired = new boolean[k];
        if (cfg.thresholdEmaDeadCode() > 0) {
            int count = 0;
            float threshold = (float) cfg.thresholdEmaDeadCode();
            for (int c = 0; c < k; c++) if (clusterSize[c] < threshold) {
                expired[c] = true;
                count++;
            }
            if (count > 0) replace(expired, count, xin, n, sampler);
        }
        steps++;
        framesSeen += n;
        return new TrainStep(idx, out, loss, before, expired);
    }

    private void replace(boolean[] expired, int count, float[] xin, int n, RowSampler sampler) {
        int d = cfg.dim();
        float[] samples = cfg.distance() == Distance.COSINE ? NearestCode.l2normalize(xin, n, d) : xin;
        int[] rows = sampler.draw(n, count);
        if (rows.length != count) throw new IllegalStateException("row sampler returned " + rows.length + " rows, asked for " + count);
        float reset = (float) cfg.resetClusterSize();
        int j = 0;
        for (int c = 0; c < expired.length; c++) {
            if (!expired[c]) continue;
            int r = rows[j++];
            if (r < 0 || r >= n) throw new IllegalStateException("row sampler returned row " + r + " outside [0, " + n + ")");
            for (int t = 0; t < d; t++) {
                float v = samples[r * d + t];
                embed[c * d + t] = v;
                embedAvg[c * d + t] = v * reset;
            }
            clusterSize[c] = reset;
        }
    }

    /**
     * Upstream {@code kmeans} (L180-220): K means drawn from the batch rows, then {@code kmeansIters} rounds of assignment and
     * re-estimation, a cluster left empty keeping its old mean; cosine re-normalises the means. Then E = means, M = means·bins,
     * N = bins.
     */
    private void kmeansInit(float[] xin, int n, RowSampler sampler) {
        int k = cfg.codebookSize(), d = cfg.dim();
        int[] rows = sampler.draw(n, k);
        float[] means = new float[k * d];
        for (int c = 0; c < k; c++) System.arraycopy(xin, rows[c] * d, means, c * d, d);
        float[] bins = new float[k];
        for (int it = 0; it < cfg.kmeansIters(); it++) {
            int[] assign = NearestCode.search(xin, n, means, k, d, cfg.distance(), false).indices();
            Arrays.fill(bins, 0f);
            double[] acc = new double[k * d];
            for (int i = 0; i < n; i++) {
                bins[assign[i]] += 1f;
                for (int j = 0; j < d; j++) acc[assign[i] * d + j] += xin[i * d + j];
            }
            float[] next = new float[k * d];
            for (int c = 0; c < k; c++) {
                float div = Math.max(bins[c], 1f);
                for (int j = 0; j < d; j++) next[c * d + j] = (float) acc[c * d + j] / div;
            }
            if (cfg.distance() == Distance.COSINE) next = NearestCode.l2normalize(next, k, d);
            for (int c = 0; c < k; c++) if (bins[c] != 0) System.arraycopy(next, c * d, means, c * d, d);
        }
        System.arraycopy(means, 0, embed, 0, means.length);
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) embedAvg[c * d + j] = means[c * d + j] * bins[c];
            clusterSize[c] = bins[c];
        }
        initted = true;
    }

    private float[] prepare(float[] x, int n) {
        if ((long) n * cfg.dim() != x.length) {
            throw new IllegalArgumentException("input holds " + x.length + " floats, expected " + n + " rows of dim " + cfg.dim());
        }
        return cfg.distance() == Distance.COSINE ? NearestCode.l2normalize(x, n, cfg.dim()) : x;
    }

    private void requireInitted() {
        if (!initted) throw new IllegalStateException("the codebook awaits k-means initialisation: train on one batch first");
    }

    private float[] gather(int[] idx) {
        int d = cfg.dim();
        float[] q = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) System.arraycopy(embed, idx[i] * d, q, i * d, d);
        return q;
    }

    private static void normalizeRowsInPlace(float[] a, int n, int d, int times) {
        for (int t = 0; t < times; t++) System.arraycopy(NearestCode.l2normalize(a, n, d), 0, a, 0, a.length);
    }
}
