package bloom4j.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Plain-Java loop implementations of the nn layers, written from the PyTorch definitions and independent of the graph code: the oracle
 * of the forward tests. Tensors are C-order {@code double[]} with their shapes passed alongside.
 */
public final class Reference {
    private Reference() {}

    public static double[] of(INDArray a) { return a.castTo(DataType.DOUBLE).dup('c').data().asDouble(); }

    public static INDArray array(double[] v, long... shape) { return Nd4j.create(v, shape, 'c'); }

    /** {@code x [n, in] · wᵀ + b}, w {@code [out, in]}, b {@code [out]} or null. */
    public static double[] linear(double[] x, int n, int in, double[] w, double[] b, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
                y[i * out + o] = s;
            }
        }
        return y;
    }

    /** RMSNorm over rows of width d. */
    public static double[] rmsNorm(double[] x, int d, double[] w, double eps) {
        int n = x.length / d;
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) {
            double ms = 0;
            for (int j = 0; j < d; j++) ms += x[i * d + j] * x[i * d + j];
            ms /= d;
            double inv = 1 / Math.sqrt(ms + eps);
            for (int j = 0; j < d; j++) y[i * d + j] = x[i * d + j] * inv * w[j];
        }
        return y;
    }

    /** LayerNorm over rows of width d, biased variance; b may be null. */
    public static double[] layerNorm(double[] x, int d, double[] w, double[] b, double eps) {
        int n = x.length / d;
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) {
            double mu = 0;
            for (int j = 0; j < d; j++) mu += x[i * d + j];
            mu /= d;
            double var = 0;
            for (int j = 0; j < d; j++) var += (x[i * d + j] - mu) * (x[i * d + j] - mu);
            var /= d;
            double inv = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < d; j++) y[i * d + j] = (x[i * d + j] - mu) * inv * w[j] + (b == null ? 0 : b[j]);
        }
        return y;
    }

    public static double silu(double v) { return v / (1 + Math.exp(-v)); }

    /** down(silu(gate(x)) · up(x)), no biases. */
    public static double[] swiglu(double[] x, int n, int dim, int hidden, double[] gate, double[] up, double[] down) {
        double[] g = linear(x, n, dim, gate, null, hidden);
        double[] u = linear(x, n, dim, up, null, hidden);
        for (int i = 0; i < g.length; i++) g[i] = silu(g[i]) * u[i];
        return linear(g, n, hidden, down, null, dim);
    }

    /**
     * HF rotary cos and sin for one position over a width r, computed the torch way in fp32:
     * inv_freq = 1 / base^(2i/r) (fp32), angle = pos · inv_freq (fp32). Returns {cos[r/2], sin[r/2]}.
     */
    public static double[][] ropeAngles(long pos, int r, double base) {
        double[] c = new double[r / 2], s = new double[r / 2];
        for (int i = 0; i < r / 2; i++) {
            float inv = 1.0f / (float) Math.pow((float) base, (float) (2 * i) / (float) r);
            float angle = (float) pos * inv;
            c[i] = (float) Math.cos(angle);
            s[i] = (float) Math.sin(angle);
        }
        return new double[][] {c, s};
    }

    /**
     * rotate_half RoPE on x {@code [B, T, H, dh]} (its first r dims), by slices exactly as HF writes it:
     * {@code x·cos + cat(-x2, x1)·sin} with cos/sin = cat(c, c), cat(s, s); position of time step t is {@code start + t}.
     */
    public static double[] rope(double[] x, int b, int t, int h, int dh, int r, double base, long start) {
        double[] y = x.clone();
        int half = r / 2;
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                double[][] cs = ropeAngles(start + ti, r, base);
                for (int hi = 0; hi < h; hi++) {
                    int o = ((bi * t + ti) * h + hi) * dh;
                    for (int j = 0; j < r; j++) {
                        double c = cs[0][j % half], s = cs[1][j % half];
                        double rot = j < half ? -x[o + j + half] : x[o + j - half];
                        y[o + j] = x[o + j] * c + rot * s;
                    }
                }
            }
        }
        return y;
    }

    /**
     * Softmax attention, HF eager with repeat_kv: q {@code [B, H, T, dh]}, k and v {@code [B, Hkv, S, dh]}; query t sits at absolute
     * position {@code S − T + t}; if causal it sees keys {@code 0 .. S−T+t}. Returns {@code [B, H, T, dh]}.
     */
    public static double[] attention(double[] q, double[] k, double[] v, int b, int h, int hkv, int t, int s, int dh, boolean causal) {
        double[] o = new double[b * h * t * dh];
        double scale = 1 / Math.sqrt(dh);
        int groups = h / hkv;
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int kh = hi / groups;
                for (int ti = 0; ti < t; ti++) {
                    int last = causal ? s - t + ti : s - 1;
                    double[] w = new double[s];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= last; j++) {
                        double dot = 0;
                        for (int e = 0; e < dh; e++) {
                            dot += q[((bi * h + hi) * t + ti) * dh + e] * k[((bi * hkv + kh) * s + j) * dh + e];
                        }
                        w[j] = dot * scale;
                        max = Math.max(max, w[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= last; j++) z += (w[j] = Math.exp(w[j] - max));
                    for (int e = 0; e < dh; e++) {
                        double acc = 0;
                        for (int j = 0; j <= last; j++) acc += w[j] / z * v[((bi * hkv + kh) * s + j) * dh + e];
                        o[((bi * h + hi) * t + ti) * dh + e] = acc;
                    }
                }
            }
        }
        return o;
    }

    /** {@code [A, B, C, D] → [A, C, B, D]}. */
    public static double[] swap12(double[] x, int a, int b, int c, int d) {
        double[] y = new double[x.length];
        for (int i = 0; i < a; i++) for (int j = 0; j < b; j++) for (int l = 0; l < c; l++) {
            System.arraycopy(x, ((i * b + j) * c + l) * d, y, ((i * c + l) * b + j) * d, d);
        }
        return y;
    }

    /**
     * A whole self-attention on rows x {@code [B·T, hidden]}: projections (no bias), rotary on the first r dims of q and k at positions
     * 0..T−1, attention, output projection. wq {@code [H·dh, hidden]}, wk/wv {@code [Hkv·dh, hidden]}, wo {@code [hidden, H·dh]}.
     */
    public static double[] selfAttention(double[] x, int b, int t, int hidden, int h, int hkv, int dh, int r, double base,
                                         boolean causal, double[] wq, double[] wk, double[] wv, double[] wo) {
        int n = b * t;
        double[] q = linear(x, n, hidden, wq, null, h * dh);
        double[] k = linear(x, n, hidden, wk, null, hkv * dh);
        double[] v = linear(x, n, hidden, wv, null, hkv * dh);
        if (r > 0) {
            q = rope(q, b, t, h, dh, r, base, 0);
            k = rope(k, b, t, hkv, dh, r, base, 0);
        }
        double[] o = attention(swap12(q, b, t, h, dh), swap12(k, b, t, hkv, dh), swap12(v, b, t, hkv, dh), b, h, hkv, t, t, dh, causal);
        return linear(swap12(o, b, h, t, dh), n, h * dh, wo, null, hidden);
    }
}
