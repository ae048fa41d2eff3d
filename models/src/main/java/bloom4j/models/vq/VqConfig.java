package bloom4j.models.vq;

/**
 * Settings of an EMA vector quantizer, named after vector-quantize-pytorch 1.14.8 {@code VectorQuantize.__init__} (L690-725), whose
 * defaults {@link #defaults(int, int)} reproduces.
 *
 * @param dim                   vector width D (no projection: {@code codebook_dim = dim})
 * @param codebookSize          number of codes K
 * @param distance              euclidean or cosine ({@code use_cosine_sim})
 * @param decay                 EMA decay of cluster sizes and sums (default 0.8; the forks' sketch VQ guesses 0.99)
 * @param eps                   Laplace smoothing of the cluster sizes (1e-5)
 * @param thresholdEmaDeadCode  codes whose EMA cluster size falls below this are replaced by batch rows; 0 disables (default)
 * @param resetClusterSize      cluster size given to a replaced code ({@code reset_cluster_size}, defaults to the threshold)
 * @param kmeansInit            initialise the codebook by k-means on the first training batch (else it is used as loaded)
 * @param kmeansIters           k-means iterations (10)
 * @param commitmentWeight      weight of the commitment loss {@code mse(sg(q), x)} (1.0)
 */
public record VqConfig(int dim, int codebookSize, Distance distance, double decay, double eps, double thresholdEmaDeadCode,
                       double resetClusterSize, boolean kmeansInit, int kmeansIters, double commitmentWeight) {

    public VqConfig {
        if (dim < 1) throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        if (codebookSize < 1) throw new IllegalArgumentException("codebook size must be >= 1, got " + codebookSize);
        if (distance == null) throw new IllegalArgumentException("distance is required (euclidean or cosine)");
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("decay must be in [0, 1), got " + decay);
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0, got " + eps);
        if (!(thresholdEmaDeadCode >= 0)) throw new IllegalArgumentException("dead-code threshold must be >= 0, got " + thresholdEmaDeadCode);
        if (!(resetClusterSize >= 0)) throw new IllegalArgumentException("reset cluster size must be >= 0, got " + resetClusterSize);
        if (kmeansIters < 0) throw new IllegalArgumentException("k-means iterations must be >= 0, got " + kmeansIters);
        if (!(commitmentWeight >= 0)) throw new IllegalArgumentException("commitment weight must be >= 0, got " + commitmentWeight);
    }

    /** vector-quantize-pytorch 1.14.8 defaults: euclidean, decay 0.8, eps 1e-5, no dead-code replacement, no k-means. */
    public static VqConfig defaults(int dim, int codebookSize) {
        return new VqConfig(dim, codebookSize, Distance.EUCLIDEAN, 0.8, 1e-5, 0, 0, false, 10, 1.0);
    }

    public VqConfig withDistance(Distance d) {
        return new VqConfig(dim, codebookSize, d, decay, eps, thresholdEmaDeadCode, resetClusterSize, kmeansInit, kmeansIters, commitmentWeight);
    }

    public VqConfig withDecay(double d) {
        return new VqConfig(dim, codebookSize, distance, d, eps, thresholdEmaDeadCode, resetClusterSize, kmeansInit, kmeansIters, commitmentWeight);
    }

    /** Dead-code threshold; the reset cluster size follows it, as upstream's {@code reset_cluster_size=None} does. */
    public VqConfig withDeadCodeThreshold(double t) {
        return new VqConfig(dim, codebookSize, distance, decay, eps, t, t, kmeansInit, kmeansIters, commitmentWeight);
    }

    public VqConfig withKmeans(boolean init, int iters) {
        return new VqConfig(dim, codebookSize, distance, decay, eps, thresholdEmaDeadCode, resetClusterSize, init, iters, commitmentWeight);
    }
}
