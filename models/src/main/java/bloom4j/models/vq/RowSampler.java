package bloom4j.models.vq;

import java.util.Random;

/**
 * The one random draw of EMA training: which batch rows replace dead codes (and seed k-means). vector-quantize-pytorch 1.14.8
 * {@code sample_vectors} (L150-158) takes {@code torch.randperm(n)[:count]} when the batch has at least {@code count} rows, else
 * {@code torch.randint(0, n, (count,))} (with replacement). Injectable so that recorded draws replay exactly.
 */
@FunctionalInterface
public interface RowSampler {

    /** {@code count} row indices in {@code [0, rows)}: distinct when {@code rows >= count}. */
    int[] draw(int rows, int count);

    /** Seeded draws with upstream's two paths (not torch's generator: the numbers differ, the distribution does not). */
    static RowSampler seeded(long seed) {
        Random r = new Random(seed);
        return (rows, count) -> {
            int[] out = new int[count];
            if (rows >= count) {
                int[] perm = new int[rows];
                for (int i = 0; i < rows; i++) perm[i] = i;
                for (int i = 0; i < count; i++) {   // partial Fisher-Yates: the first count entries of a random permutation
                    int j = i + r.nextInt(rows - i);
                    int t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                    out[i] = perm[i];
                }
            } else {
                for (int i = 0; i < count; i++) out[i] = r.nextInt(rows);
            }
            return out;
        };
    }
}
