package bloom4j.models.vq;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Nearest-code search over a codebook {@code E [K, D]}, the lookup of vector-quantize-pytorch 1.14.8 (see {@link Distance}).
 *
 * <p>The dot products {@code x·Eᵀ} come from one float32 GEMM per block of rows (blocks keep the {@code [rows, K]} score matrix
 * bounded: 1024 rows × 16384 codes is 64 MB); the rest is scalar float arithmetic in upstream's order, so that a score differs from
 * PyTorch's only by the GEMM's summation order:
 * <pre>
 *   euclidean: score = −sqrt(max(0, (|x|² + |e|²) + (−2·x·e)))       (cdist, L29-33)
 *   cosine:    score = x̂·e,  x̂ = x / max(|x|, 1e-12) (the caller normalises: {@link #l2normalize})
 * </pre>
 */
public final class NearestCode {
    private static final int BLOCK_ROWS = 1024;

    private NearestCode() {}

    /**
     * Per row: the chosen code (first maximum of the score), its score and the runner-up score ({@code -Infinity} when K = 1, and
     * not computed when {@code topTwo} is false).
     */
    public record Result(int[] indices, float[] best, float[] second) {}

    /**
     * Searches {@code n} rows {@code x [n, d]} (row-major) against {@code embed [k, d]}. For {@link Distance#COSINE} the rows must
     * already be l2-normalised and the codes kept normalised, as upstream does.
     */
    public static Result search(float[] x, int n, float[] embed, int k, int d, Distance distance, boolean topTwo) {
        if ((long) n * d != x.length) throw new IllegalArgumentException("x holds " + x.length + " floats, expected " + n + "×" + d);
        if ((long) k * d != embed.length) throw new IllegalArgumentException("codebook holds " + embed.length + " floats, expected " + k + "×" + d);
        INDArray e = Nd4j.create(embed, new long[] {k, d}, 'c');
        float[] e2 = distance == Distance.EUCLIDEAN ? squaredNorms(embed, k, d) : null;
        int[] idx = new int[n];
        float[] best = new float[n];
        float[] second = topTwo ? new float[n] : null;
        float[] block = new float[Math.min(n, BLOCK_ROWS) * d];
        for (int r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
            int rows = Math.min(BLOCK_ROWS, n - r0);
            if (rows * d != block.length) block = new float[rows * d];
            System.arraycopy(x, r0 * d, block, 0, rows * d);
            INDArray xb = Nd4j.create(block, new long[] {rows, d}, 'c');
            float[] xy = Nd4j.gemm(xb, e, false, true).castTo(DataType.FLOAT).dup('c').data().asFloat();   // [rows, k]
            float[] x2 = e2 == null ? null : squaredNorms(block, rows, d);
            for (int i = 0; i < rows; i++) {
                float b1 = Float.NEGATIVE_INFINITY, b2 = Float.NEGATIVE_INFINITY;
                int arg = 0;
                int off = i * k;
                for (int j = 0; j < k; j++) {
                    float s;
                    if (e2 != null) {
                        float sq = (x2[i] + e2[j]) + xy[off + j] * -2f;
                        s = -(float) Math.sqrt(Math.max(sq, 0f));
                    } else {
                        s = xy[off + j];
                    }
                    if (s > b1) {               // strict: the first maximum wins, as torch.argmax
                        b2 = b1;
                        b1 = s;
                        arg = j;
                    } else if (s > b2) {
                        b2 = s;
                    }
                }
                idx[r0 + i] = arg;
                best[r0 + i] = b1;
                if (second != null) second[r0 + i] = b2;
            }
        }
        return new Result(idx, best, second);
    }

    /** {@code F.normalize(x, p=2, dim=-1)}: each row divided by {@code max(|row|, 1e-12)}. Returns a new array. */
    public static float[] l2normalize(float[] x, int n, int d) {
        float[] out = new float[x.length];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (double) x[i * d + j] * x[i * d + j];
            float norm = Math.max((float) Math.sqrt(s), 1e-12f);
            for (int j = 0; j < d; j++) out[i * d + j] = x[i * d + j] / norm;
        }
        return out;
    }

    static float[] squaredNorms(float[] x, int n, int d) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (double) x[i * d + j] * x[i * d + j];
            out[i] = (float) s;
        }
        return out;
    }
}
