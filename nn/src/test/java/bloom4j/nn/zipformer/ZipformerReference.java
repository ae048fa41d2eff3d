package bloom4j.nn.zipformer;

import bloom4j.nn.Reference;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * Zipformer in plain double loops, written from upstream's definitions (k2-fsa/ZipVoice@2f7326f
 * {@code zipvoice/models/modules/zipformer.py}, time-major there, batch-major here): the reference the SameDiff layers are tested
 * against. Activations are {@code [B][L][D]}; {@code pad[b][l]} true at padded frames.
 */
final class ZipformerReference {
    private final Map<String, INDArray> w;
    private final ZipformerDims d;

    ZipformerReference(Map<String, INDArray> weights, ZipformerDims dims) {
        this.w = weights;
        this.d = dims;
    }

    private double[] v(String key) { return Reference.of(w.get(key)); }

    static double swooshL(double x) { return Math.log1p(Math.exp(x - 4)) - 0.08 * x - 0.035; }

    static double swooshR(double x) { return Math.log1p(Math.exp(x - 1)) - 0.08 * x - 0.313261687; }

    /** y = x·Wᵀ + b over the last axis; W [out, in] flattened. */
    double[][][] linear(double[][][] x, String prefix, boolean bias) {
        double[] wt = v(prefix + ".weight"), b = bias ? v(prefix + ".bias") : null;
        int in = x[0][0].length, out = wt.length / in;
        double[][][] y = new double[x.length][x[0].length][out];
        for (int i = 0; i < x.length; i++) for (int t = 0; t < x[0].length; t++) for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int k = 0; k < in; k++) s += wt[o * in + k] * x[i][t][k];
            y[i][t][o] = s;
        }
        return y;
    }

    static double[][][] add(double[][][] a, double[][][] b) {
        double[][][] y = new double[a.length][a[0].length][a[0][0].length];
        for (int i = 0; i < a.length; i++) for (int t = 0; t < a[0].length; t++) for (int c = 0; c < a[0][0].length; c++) y[i][t][c] = a[i][t][c] + b[i][t][c];
        return y;
    }

    static double[][][] addTime(double[][][] a, double[][] e) {
        double[][][] y = new double[a.length][a[0].length][a[0][0].length];
        for (int i = 0; i < a.length; i++) for (int t = 0; t < a[0].length; t++) for (int c = 0; c < a[0][0].length; c++) y[i][t][c] = a[i][t][c] + e[i][c];
        return y;
    }

    static double[][][] map(double[][][] a, java.util.function.DoubleUnaryOperator f) {
        double[][][] y = new double[a.length][a[0].length][a[0][0].length];
        for (int i = 0; i < a.length; i++) for (int t = 0; t < a[0].length; t++) for (int c = 0; c < a[0][0].length; c++) y[i][t][c] = f.applyAsDouble(a[i][t][c]);
        return y;
    }

    static double[][][] cols(double[][][] a, int from, int to) {
        double[][][] y = new double[a.length][a[0].length][to - from];
        for (int i = 0; i < a.length; i++) for (int t = 0; t < a[0].length; t++) System.arraycopy(a[i][t], from, y[i][t], 0, to - from);
        return y;
    }

    /** Attention weights [H][B][L][L]. */
    double[][][][] attentionWeights(String p, double[][][] x, boolean[][] pad) {
        int b = x.length, l = x[0].length, h = d.heads(), dq = d.queryHeadDim(), dp = d.posHeadDim();
        double[][][] proj = linear(x, p + ".in_proj", true);
        INDArray pe = RelPositionalEncoding.table(l, d.posDim(), org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        double[][][] pos = linear(new double[][][] {pe.toDoubleMatrix()}, p + ".linear_pos", false);   // [1][2L−1][H·dp]
        double[][][][] out = new double[h][b][l][l];
        for (int hh = 0; hh < h; hh++) for (int bb = 0; bb < b; bb++) for (int i = 0; i < l; i++) {
            double[] s = new double[l];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < l; j++) {
                double acc = 0;
                for (int c = 0; c < dq; c++) acc += proj[bb][i][hh * dq + c] * proj[bb][j][h * dq + hh * dq + c];
                int offset = (j - i) + (l - 1);
                for (int c = 0; c < dp; c++) acc += proj[bb][i][2 * h * dq + hh * dp + c] * pos[0][offset][hh * dp + c];
                s[j] = pad != null && pad[bb][j] ? -1000 : acc;
                max = Math.max(max, s[j]);
            }
            double z = 0;
            for (int j = 0; j < l; j++) z += Math.exp(s[j] - max);
            for (int j = 0; j < l; j++) out[hh][bb][i][j] = Math.exp(s[j] - max) / z;
        }
        return out;
    }

    /** Σ_j W[h][b][i][j]·x[b][j][h·dh + c] for each head h of x's channels. */
    static double[][][] mix(double[][][][] wt, double[][][] x, int heads) {
        int b = x.length, l = x[0].length, c = x[0][0].length, dh = c / heads;
        double[][][] y = new double[b][l][c];
        for (int h = 0; h < heads; h++) for (int bb = 0; bb < b; bb++) for (int i = 0; i < l; i++) for (int k = 0; k < dh; k++) {
            double s = 0;
            for (int j = 0; j < l; j++) s += wt[h][bb][i][j] * x[bb][j][h * dh + k];
            y[bb][i][h * dh + k] = s;
        }
        return y;
    }

    double[][][] selfAttention(String p, double[][][] x, double[][][][] wt) {
        return linear(mix(wt, linear(x, p + ".in_proj", true), d.heads()), p + ".out_proj", true);
    }

    double[][][] nonlin(String p, double[][][] x, double[][][][] wt) {
        int hc = d.nonlinHidden();
        double[][][] proj = linear(x, p + ".in_proj", true);
        double[][][] s = cols(proj, 0, hc), v = cols(proj, hc, 2 * hc), y = cols(proj, 2 * hc, 3 * hc);
        double[][][] g = new double[x.length][x[0].length][hc];
        for (int i = 0; i < x.length; i++) for (int t = 0; t < x[0].length; t++) for (int c = 0; c < hc; c++) g[i][t][c] = v[i][t][c] * Math.tanh(s[i][t][c]);
        double[][][] m = mix(new double[][][][] {wt[0]}, g, 1);
        for (int i = 0; i < x.length; i++) for (int t = 0; t < x[0].length; t++) for (int c = 0; c < hc; c++) m[i][t][c] *= y[i][t][c];
        return linear(m, p + ".out_proj", true);
    }

    double[][][] feedForward(String p, double[][][] x) {
        return linear(map(linear(x, p + ".in_proj", true), ZipformerReference::swooshL), p + ".out_proj", true);
    }

    double[][][] conv(String p, double[][][] x, boolean[][] pad) {
        int b = x.length, l = x[0].length, c = d.dim(), k = d.kernel(), half = k / 2;
        double[][][] proj = linear(x, p + ".in_proj", true);
        double[][][] g = new double[b][l][c];
        for (int i = 0; i < b; i++) for (int t = 0; t < l; t++) for (int ch = 0; ch < c; ch++) {
            g[i][t][ch] = pad != null && pad[i][t] ? 0 : proj[i][t][ch] / (1 + Math.exp(-proj[i][t][c + ch]));
        }
        double[] kw = v(p + ".depthwise_conv.weight"), kb = v(p + ".depthwise_conv.bias");
        double[][][] y = new double[b][l][c];
        for (int i = 0; i < b; i++) for (int t = 0; t < l; t++) for (int ch = 0; ch < c; ch++) {
            double s = kb[ch];
            for (int j = 0; j < k; j++) {
                int at = t + j - half;
                if (at >= 0 && at < l) s += kw[ch * k + j] * g[i][at][ch];
            }
            y[i][t][ch] = swooshR(s);
        }
        return linear(y, p + ".out_proj", true);
    }

    double[][][] biasNorm(String p, double[][][] x) {
        double[] bias = v(p + ".bias");
        double scale = Math.exp(w.get(p + ".log_scale").getDouble(0));
        double[][][] y = new double[x.length][x[0].length][x[0][0].length];
        for (int i = 0; i < x.length; i++) for (int t = 0; t < x[0].length; t++) {
            double ms = 0;
            for (int c = 0; c < bias.length; c++) ms += (x[i][t][c] - bias[c]) * (x[i][t][c] - bias[c]);
            ms /= bias.length;
            for (int c = 0; c < bias.length; c++) y[i][t][c] = x[i][t][c] / Math.sqrt(ms) * scale;
        }
        return y;
    }

    double[][][] bypass(String p, double[][][] orig, double[][][] x) {
        double[] s = v(p + ".bypass_scale");
        double[][][] y = new double[x.length][x[0].length][x[0][0].length];
        for (int i = 0; i < x.length; i++) for (int t = 0; t < x[0].length; t++) for (int c = 0; c < s.length; c++) y[i][t][c] = orig[i][t][c] + (x[i][t][c] - orig[i][t][c]) * s[c];
        return y;
    }

    double[][][] layer(String p, double[][][] x, double[][] e, boolean[][] pad) {
        double[][][] orig = x;
        double[][][][] wt = attentionWeights(p + ".self_attn_weights", x, pad);
        if (e != null) x = addTime(x, e);
        x = add(x, feedForward(p + ".feed_forward1", x));
        x = add(x, nonlin(p + ".nonlin_attention", x, wt));
        x = add(x, selfAttention(p + ".self_attn1", x, wt));
        if (e != null) x = addTime(x, e);
        x = add(x, conv(p + ".conv_module1", x, pad));
        x = add(x, feedForward(p + ".feed_forward2", x));
        x = bypass(p + ".bypass_mid", orig, x);
        x = add(x, selfAttention(p + ".self_attn2", x, wt));
        if (e != null) x = addTime(x, e);
        x = add(x, conv(p + ".conv_module2", x, pad));
        x = add(x, feedForward(p + ".feed_forward3", x));
        return bypass(p + ".bypass", orig, biasNorm(p + ".norm", x));
    }

    /** A stack at factor {@code ds} (keys under {@code p}, {@code p.encoder} when ds > 1); {@code time [B][E]} or null. */
    double[][][] stack(String p, int layers, int ds, double[][][] x, double[][] time, boolean[][] pad) {
        String enc = ds == 1 ? p : p + ".encoder";
        double[][] e = null;
        if (time != null) e = linear(new double[][][] {mapRows(time)}, enc + ".time_emb.1", true)[0];
        if (ds == 1) {
            for (int j = 0; j < layers; j++) x = layer(enc + ".layers." + j, x, e, pad);
            return x;
        }
        int b = x.length, t = x[0].length, c = x[0][0].length, low = (t + ds - 1) / ds;
        double[] bias = v(p + ".downsample.bias");
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (double q : bias) max = Math.max(max, q);
        double[] sw = new double[ds];
        for (int i = 0; i < ds; i++) z += sw[i] = Math.exp(bias[i] - max);
        for (int i = 0; i < ds; i++) sw[i] /= z;
        double[][][] y = new double[b][low][c];
        boolean[][] lowPad = pad == null ? null : new boolean[b][low];
        for (int i = 0; i < b; i++) for (int f = 0; f < low; f++) {
            for (int r = 0; r < ds; r++) {
                int src = Math.min(f * ds + r, t - 1);                       // right-padded by repeating the last frame
                for (int ch = 0; ch < c; ch++) y[i][f][ch] += sw[r] * x[i][src][ch];
            }
            if (pad != null) lowPad[i][f] = pad[i][f * ds];
        }
        for (int j = 0; j < layers; j++) y = layer(enc + ".layers." + j, y, e, lowPad);
        double[][][] up = new double[b][t][c];
        for (int i = 0; i < b; i++) for (int f = 0; f < t; f++) up[i][f] = y[i][f / ds].clone();
        return bypass(p + ".out_combiner", x, up);
    }

    private static double[][] mapRows(double[][] a) {
        double[][] y = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) for (int c = 0; c < a[0].length; c++) y[i][c] = swooshR(a[i][c]);
        return y;
    }
}
