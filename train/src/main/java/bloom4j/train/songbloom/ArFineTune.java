package bloom4j.train.songbloom;

import bloom4j.models.songbloom.SongBloomArTraining;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.train.CrossEntropy;
import bloom4j.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fine-tuning SongBloom's AR on its cross-entropy: the {@link SongBloomArTraining} graph with a {@link CrossEntropy} over
 * {@code ar_logit} (ignore id P + 1), and the micro-batches a {@link Trainer} consumes. Also the synthetic data the tests and
 * {@code bench-train} use: random weights, and sketch rows that follow a fixed random permutation of the codes
 * ({@code s[j+1] = π(s[j])}, learnable from the previous token), EOS-padded after {@code x_len}.
 */
public final class ArFineTune {
    private final SongBloomArTraining graph;
    private final CrossEntropy ce;

    public ArFineTune(SongBloomArTraining graph) {
        this.graph = graph;
        this.ce = CrossEntropy.build(graph.logits(), graph.config().sketchVocabulary().classes(), "loss");
    }

    /** Builds the graph and its loss. */
    public static ArFineTune build(SongBloomConfig c, ParamSource source, LoadOptions options, int batch, int prefixLen, int sketchLen) {
        return new ArFineTune(SongBloomArTraining.build(c, source, options, batch, prefixLen, sketchLen));
    }

    public SongBloomArTraining graph() { return graph; }

    public CrossEntropy crossEntropy() { return ce; }

    /** One synthetic or real training row set: conditions {@code [B, Lp, D]}, sketch {@code [B][T]}, lengths, latents {@code [B, T, latent]}. */
    public record Batch(INDArray prefix, long[][] sketch, long[] xLen, INDArray latents) {
        public int size() { return sketch.length; }
    }

    /** The micro-batches of one step, the loss of each weighted by the valid targets of all of them (so N of them == one of N). */
    public List<Trainer.MicroBatch> step(List<Batch> micro) {
        long valid = 0;
        for (Batch b : micro) valid += CrossEntropy.countValid(graph.targets(b.sketch(), b.xLen()), graph.ignoreId());
        List<Trainer.MicroBatch> out = new ArrayList<>();
        for (Batch b : micro) {
            Map<String, INDArray> f = graph.feed(b.prefix(), b.sketch(), b.latents());
            f.putAll(ce.feed(graph.targets(b.sketch(), b.xLen()), graph.ignoreId(), valid));
            out.add(new Trainer.MicroBatch(f, graph.rows()));
        }
        return out;
    }

    /** {@code ar_logit} rows of a batch (eval; {@code extra} adds e.g. adapters' no-dropout masks). */
    public INDArray logits(Batch b, Map<String, INDArray> extra) {
        Map<String, INDArray> f = graph.feed(b.prefix(), b.sketch(), b.latents());
        f.putAll(extra);
        String name = graph.logits().name();
        return graph.output(f, name).get(name);
    }

    /** Rows of {@code b} from {@code from} (inclusive) to {@code to} (exclusive), as a batch of its own. */
    public static Batch slice(Batch b, int from, int to) {
        long[][] s = java.util.Arrays.copyOfRange(b.sketch(), from, to);
        long[] l = java.util.Arrays.copyOfRange(b.xLen(), from, to);
        return new Batch(b.prefix().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup(), s, l,
                b.latents().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup());
    }

    /**
     * Synthetic rows: a permutation chain of codes from a random start per row, EOS after {@code xLen[i]} (a multiple of the block
     * size), prefix N(0, 0.5²), latents N(0, 1).
     */
    public static Batch synthetic(SongBloomConfig c, int prefixLen, int sketchLen, long[] xLen, SplittableRandom rng) {
        int p = c.numPitch(), b = xLen.length;
        int[] perm = permutation(p);
        long[][] s = new long[b][sketchLen];
        for (int i = 0; i < b; i++) {
            long tok = rng.nextInt(p);
            for (int j = 0; j < sketchLen; j++) {
                s[i][j] = j < xLen[i] ? tok : p;
                tok = perm[(int) tok];
            }
        }
        INDArray prefix = gaussian(rng, 0.5, b, prefixLen, c.dim());
        INDArray latents = gaussian(rng, 1.0, b, sketchLen, c.latentDim());
        return new Batch(prefix, s, xLen.clone(), latents);
    }

    private static INDArray gaussian(SplittableRandom rng, double std, long... shape) {
        float[] v = new float[Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y))];
        for (int i = 0; i < v.length; i++) v[i] = (float) (std * rng.nextGaussian());
        return Nd4j.create(v, shape, 'c');
    }

    static int[] permutation(int n) {
        SplittableRandom r = new SplittableRandom(1234);
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /**
     * Random AR weights for {@code c} under the released keys: N(0, std²) with RMSNorm weights at one, {@code dtype}. Built by loading
     * the graph from an empty source with this initialiser (all trainable, so that nothing is fused), so the key set is exactly what
     * the graph reads.
     */
    public static Map<String, INDArray> randomWeights(SongBloomConfig c, double std, long seed, DataType dtype) {
        Init normal = Init.normal(std, seed);
        Init init = Init.named("normal(" + std + "), norms one", (k, s, t) -> k.endsWith("norm.weight") ? Nd4j.ones(t, s)
                : normal.create(k, s, t));
        SongBloomArTraining g = SongBloomArTraining.build(c, ParamSource.empty(), LoadOptions.inference().dtype(dtype).allTrainable().initMissing(init),
                1, 0, c.blockSize());
        Map<String, INDArray> m = new LinkedHashMap<>();
        g.params().variables().forEach((k, v) -> m.put(k, v.getArr().dup()));
        return m;
    }
}
