package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Conv1d, ConvTranspose1d, SnakeBeta and WeightNorm against plain loops with PyTorch's definitions, and gradient checks. */
class ConvLayersTest {

    /** PyTorch conv1d: y[b,o,t] = bias[o] + Σ_{i,j} w[o,i,j]·x[b,i,t·s − p + j·d] (zero outside). */
    static double[] conv1d(double[] x, int b, int cin, int len, double[] w, double[] bias, int cout, int k, int s, int p, int d) {
        int lout = (len + 2 * p - d * (k - 1) - 1) / s + 1;
        double[] y = new double[b * cout * lout];
        for (int n = 0; n < b; n++) for (int o = 0; o < cout; o++) for (int t = 0; t < lout; t++) {
            double acc = bias == null ? 0 : bias[o];
            for (int i = 0; i < cin; i++) for (int j = 0; j < k; j++) {
                int at = t * s - p + j * d;
                if (at >= 0 && at < len) acc += w[(o * cin + i) * k + j] * x[(n * cin + i) * len + at];
            }
            y[(n * cout + o) * lout + t] = acc;
        }
        return y;
    }

    /** PyTorch conv_transpose1d: y[b,o,t·s − p + j] += w[i,o,j]·x[b,i,t], kept where 0 ≤ index < (L−1)s − 2p + k. */
    static double[] convT(double[] x, int b, int cin, int len, double[] w, double[] bias, int cout, int k, int s, int p) {
        int lout = (len - 1) * s - 2 * p + k;
        double[] y = new double[b * cout * lout];
        for (int n = 0; n < b; n++) for (int o = 0; o < cout; o++) {
            for (int t = 0; t < lout; t++) y[(n * cout + o) * lout + t] = bias == null ? 0 : bias[o];
            for (int i = 0; i < cin; i++) for (int t = 0; t < len; t++) for (int j = 0; j < k; j++) {
                int at = t * s - p + j;
                if (at >= 0 && at < lout) y[(n * cout + o) * lout + at] += w[(i * cout + o) * k + j] * x[(n * cin + i) * len + t];
            }
        }
        return y;
    }

    static Scope scope(SameDiff sd, Map<String, INDArray> w, boolean trainable) {
        LoadOptions o = LoadOptions.inference().dtype(DataType.DOUBLE);
        return Scope.root(sd, ParamSource.of(w), trainable ? o.allTrainable() : o);
    }

    @Test void conv1dMatchesLoops() {
        int[][] cases = {{3, 5, 7, 1, 3, 1}, {4, 6, 7, 1, 9, 3}, {4, 8, 4, 2, 1, 1}, {2, 3, 20, 10, 5, 1}, {5, 2, 3, 1, 1, 1}};
        for (int[] c : cases) {
            int cin = c[0], cout = c[1], k = c[2], s = c[3], p = c[4], d = c[5], b = 2, len = 41;
            Map<String, INDArray> w = new LinkedHashMap<>();
            w.put("conv.weight", Rand.normal(1, cout, cin, k));
            w.put("conv.bias", Rand.normal(2, cout));
            SameDiff sd = SameDiff.create();
            Conv1d conv = Conv1d.load(scope(sd, w, false).pp("conv"), cin, cout, k, s, p, d, true);
            SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, cin, -1);
            SDVariable y = conv.forward(x);
            INDArray xv = Rand.normal(3, b, cin, len);
            double[] want = conv1d(Reference.of(xv), b, cin, len, Reference.of(w.get("conv.weight")), Reference.of(w.get("conv.bias")),
                    cout, k, s, p, d);
            INDArray got = sd.output(Map.of("x", xv), y.name()).get(y.name());
            assertEquals(want.length, got.length(), java.util.Arrays.toString(c));
            assertArrayEquals(want, Reference.of(got), 1e-10, java.util.Arrays.toString(c));
        }
    }

    @Test void convTransposeMatchesLoops() {
        int[][] cases = {{4, 3, 4, 2, 1}, {3, 5, 8, 4, 2}, {2, 2, 20, 10, 5}, {3, 2, 12, 6, 3}, {2, 3, 3, 1, 1}};
        for (int[] c : cases) {
            int cin = c[0], cout = c[1], k = c[2], s = c[3], p = c[4], b = 2, len = 9;
            Map<String, INDArray> w = new LinkedHashMap<>();
            w.put("up.weight", Rand.normal(4, cin, cout, k));
            w.put("up.bias", Rand.normal(5, cout));
            SameDiff sd = SameDiff.create();
            ConvTranspose1d up = ConvTranspose1d.load(scope(sd, w, false).pp("up"), cin, cout, k, s, p, true);
            SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, cin, -1);
            SDVariable y = up.forward(x);
            INDArray xv = Rand.normal(6, b, cin, len);
            double[] want = convT(Reference.of(xv), b, cin, len, Reference.of(w.get("up.weight")), Reference.of(w.get("up.bias")), cout, k,
                    s, p);
            INDArray got = sd.output(Map.of("x", xv), y.name()).get(y.name());
            assertArrayEquals(new long[] {b, cout, (len - 1) * s - 2L * p + k}, got.shape(), java.util.Arrays.toString(c));
            assertArrayEquals(want, Reference.of(got), 1e-10, java.util.Arrays.toString(c));
        }
    }

    @Test void snakeBetaMatchesFormula() {
        int c = 3, len = 5;
        Map<String, INDArray> w = Map.of("act.alpha", Rand.normal(7, 0.5, c), "act.beta", Rand.normal(8, 0.5, c));
        SameDiff sd = SameDiff.create();
        SnakeBeta act = SnakeBeta.load(scope(sd, w, false).pp("act"), c);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, c, -1);
        SDVariable y = act.forward(x);
        INDArray xv = Rand.normal(9, 2, c, len);
        double[] xs = Reference.of(xv), a = Reference.of(w.get("act.alpha")), be = Reference.of(w.get("act.beta"));
        double[] want = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            int ch = (i / len) % c;
            double s = Math.sin(xs[i] * Math.exp(a[ch]));
            want[i] = xs[i] + 1 / (Math.exp(be[ch]) + 1e-9) * s * s;
        }
        assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-12);
    }

    @Test void weightNormFoldsAtLoadAndComposesWhenTrainable() {
        int cin = 3, cout = 4, k = 5;
        INDArray g = Rand.normal(10, cout, 1, 1), v = Rand.normal(11, cout, cin, k);
        double[] vs = Reference.of(v), gs = Reference.of(g);
        double[] wantW = new double[vs.length];
        for (int o = 0; o < cout; o++) {
            double n = 0;
            for (int j = 0; j < cin * k; j++) n += vs[o * cin * k + j] * vs[o * cin * k + j];
            for (int j = 0; j < cin * k; j++) wantW[o * cin * k + j] = gs[o] * vs[o * cin * k + j] / Math.sqrt(n);
        }
        assertArrayEquals(wantW, Reference.of(WeightNorm.fold(g, v)), 1e-12);
        for (boolean trainable : new boolean[] {false, true}) {
            SameDiff sd = SameDiff.create();
            Scope s = scope(sd, Map.of("c.weight_g", g, "c.weight_v", v), trainable);
            Conv1d conv = Conv1d.load(s.pp("c"), cin, cout, k, 1, 2, 1, false);
            assertEquals(2, s.params().consumed().size());
            assertEquals(trainable ? 2 : 0, s.params().trainable().size());
            SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, cin, -1);
            SDVariable y = conv.forward(x);
            INDArray xv = Rand.normal(12, 1, cin, 8);
            double[] want = conv1d(Reference.of(xv), 1, cin, 8, wantW, null, cout, k, 1, 2, 1);
            assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-10);
        }
    }

    @Test void gradients() {
        // conv1d with weight norm (g, v trainable), dilation and stride, through SnakeBeta and a transposed conv with weight norm
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put("act.alpha", Rand.normal(20, 0.3, 3));
        w.put("act.beta", Rand.normal(21, 0.3, 3));
        w.put("conv.weight_g", Rand.normal(22, 4, 1, 1));
        w.put("conv.weight_v", Rand.normal(23, 4, 3, 3));
        w.put("conv.bias", Rand.normal(24, 4));
        w.put("up.weight_g", Rand.normal(25, 4, 1, 1));
        w.put("up.weight_v", Rand.normal(26, 4, 2, 4));
        w.put("up.bias", Rand.normal(27, 2));
        w.put("plain.weight", Rand.normal(28, 2, 2, 3));
        SameDiff sd = SameDiff.create();
        Scope s = scope(sd, w, true);
        SnakeBeta act = SnakeBeta.load(s.pp("act"), 3);
        Conv1d conv = Conv1d.load(s.pp("conv"), 3, 4, 3, 2, 2, 2, true);
        ConvTranspose1d up = ConvTranspose1d.load(s.pp("up"), 4, 2, 4, 2, 1, true);
        Conv1d plain = Conv1d.load(s.pp("plain"), 2, 2, 3, 1, 1, 1, false);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, 2, 3, 11);
        SDVariable y = plain.forward(up.forward(conv.forward(act.forward(x))));
        GradientCheck.of(sd, y).feed(Map.of("x", Rand.normal(29, 2, 3, 11))).inputs("x").check();
    }
}
