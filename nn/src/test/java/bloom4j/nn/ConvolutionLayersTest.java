package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Conv2d, DepthwiseConv1d, BatchNorm (eval), Glu, Mlp and Activation: loops in double, then gradient checks. */
class ConvolutionLayersTest {

    static Scope scope(SameDiff sd, Map<String, INDArray> m) {
        return Scope.root(sd, ParamSource.of(m), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
    }

    /** PyTorch Conv2d by loops: x [B, I, H, W], w [O, I, k, k], zero padding. */
    static double[] conv2d(double[] x, int b, int ci, int h, int w, double[] wt, double[] bias, int co, int k, int sh, int sw,
                           int ph, int pw, int ho, int wo) {
        double[] y = new double[b * co * ho * wo];
        for (int n = 0; n < b; n++) for (int o = 0; o < co; o++) for (int i = 0; i < ho; i++) for (int j = 0; j < wo; j++) {
            double acc = bias == null ? 0 : bias[o];
            for (int c = 0; c < ci; c++) for (int u = 0; u < k; u++) for (int v = 0; v < k; v++) {
                int hi = i * sh - ph + u, wi = j * sw - pw + v;
                if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                acc += x[((n * ci + c) * h + hi) * w + wi] * wt[((o * ci + c) * k + u) * k + v];
            }
            y[((n * co + o) * ho + i) * wo + j] = acc;
        }
        return y;
    }

    @Test void conv2dMatchesLoopsWithStrideAndOddSizes() {
        int b = 2, ci = 3, co = 4, h = 7, w = 5, k = 3;
        Map<String, INDArray> m = Map.of("c.weight", Rand.normal(1, co, ci, k, k), "c.bias", Rand.normal(2, co));
        SameDiff sd = SameDiff.create();
        Conv2d conv = Conv2d.load(scope(sd, m).pp("c"), ci, co, k, 2, 2, 1, 1, true);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, ci, h, -1);
        SDVariable y = conv.forward(x);
        INDArray xv = Rand.normal(3, b, ci, h, w);
        INDArray out = sd.output(Map.of("x", xv), y.name()).get(y.name());
        int ho = (int) Conv2d.outSize(h, k, 2, 1), wo = (int) Conv2d.outSize(w, k, 2, 1);
        assertArrayEquals(new long[] {b, co, ho, wo}, out.shape());
        assertArrayEquals(conv2d(Reference.of(xv), b, ci, h, w, Reference.of(m.get("c.weight")), Reference.of(m.get("c.bias")), co, k,
                2, 2, 1, 1, ho, wo), Reference.of(out), 1e-12);
        GradientCheck.of(sd, y).feed(Map.of("x", xv)).inputs("x").check();
    }

    @Test void depthwiseConv1dMatchesLoopsPerSequence() {
        int b = 2, t = 6, c = 3, k = 5;
        Map<String, INDArray> m = Map.of("dw.weight", Rand.normal(4, c, 1, k));
        SameDiff sd = SameDiff.create();
        DepthwiseConv1d conv = DepthwiseConv1d.load(scope(sd, m).pp("dw"), c, k, false);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, b, -1, c);
        SDVariable y = conv.forwardRows(x.reshape(-1, c), SeqShape.of(x));
        INDArray xv = Rand.normal(5, b, t, c);
        double[] xs = Reference.of(xv), ws = Reference.of(m.get("dw.weight"));
        double[] want = new double[b * t * c];
        for (int n = 0; n < b; n++) for (int i = 0; i < t; i++) for (int ch = 0; ch < c; ch++) {
            double acc = 0;
            for (int u = 0; u < k; u++) {
                int ti = i - (k - 1) / 2 + u;            // zero padding, never across sequences
                if (ti >= 0 && ti < t) acc += xs[(n * t + ti) * c + ch] * ws[ch * k + u];
            }
            want[(n * t + i) * c + ch] = acc;
        }
        assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-12);
        GradientCheck.of(sd, y).feed(Map.of("x", xv)).inputs("x").check();
    }

    @Test void batchNormUsesRunningStatisticsOnRowsAndNchw() {
        int c = 3;
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("bn.weight", Rand.normal(6, c).addi(1));
        m.put("bn.bias", Rand.normal(7, c));
        m.put("bn.running_mean", Rand.normal(8, c));
        m.put("bn.running_var", Transforms.exp(Rand.normal(9, c)));
        m.put("bn.num_batches_tracked", Nd4j.scalar(10L));
        SameDiff sd = SameDiff.create();
        Scope s = scope(sd, m);
        BatchNorm bn = BatchNorm.load(s.pp("bn"), c, 1e-5);
        SDVariable rows = sd.placeHolder("rows", DataType.DOUBLE, -1, c);
        SDVariable img = sd.placeHolder("img", DataType.DOUBLE, -1, c, -1, -1);
        SDVariable yr = bn.forwardRows(rows), yi = bn.forward(img, 1, 4);
        INDArray rv = Rand.normal(10, 4, c), iv = Rand.normal(11, 2, c, 2, 3);
        Map<String, INDArray> out = sd.output(Map.of("rows", rv, "img", iv), yr.name(), yi.name());
        double[] w = Reference.of(m.get("bn.weight")), bb = Reference.of(m.get("bn.bias")), mu = Reference.of(m.get("bn.running_mean")),
                var = Reference.of(m.get("bn.running_var"));
        double[] r = Reference.of(rv), want = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            int ch = i % c;
            want[i] = (r[i] - mu[ch]) / Math.sqrt(var[ch] + 1e-5) * w[ch] + bb[ch];
        }
        assertArrayEquals(want, Reference.of(out.get(yr.name())), 1e-12);
        double[] im = Reference.of(iv), wantI = new double[im.length];
        for (int i = 0; i < im.length; i++) {
            int ch = i / 6 % c;
            wantI[i] = (im[i] - mu[ch]) / Math.sqrt(var[ch] + 1e-5) * w[ch] + bb[ch];
        }
        assertArrayEquals(wantI, Reference.of(out.get(yi.name())), 1e-12);
        assertTrue(s.params().unused().isEmpty(), "num_batches_tracked counts as read: " + s.params().unused());
        GradientCheck.of(sd, yr).feed(Map.of("rows", rv, "img", iv)).inputs("rows").params("bn.weight", "bn.bias").check();
    }

    @Test void gluGatesTheFirstHalfWithTheSecond() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 4);
        SDVariable y = Glu.forwardRows(x, 2);
        INDArray xv = Rand.normal(12, 3, 4);
        double[] xs = Reference.of(xv), want = new double[6];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) want[i * 2 + j] = xs[i * 4 + j] / (1 + Math.exp(-xs[i * 4 + 2 + j]));
        assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-12);
        GradientCheck.of(sd, y).feed(Map.of("x", xv)).inputs("x").check();
    }

    @Test void mlpWithEachActivation() {
        int dim = 4, hidden = 6;
        Map<String, INDArray> m = Map.of("ff.intermediate_dense.weight", Rand.normal(13, hidden, dim),
                "ff.intermediate_dense.bias", Rand.normal(14, hidden), "ff.output_dense.weight", Rand.normal(15, dim, hidden),
                "ff.output_dense.bias", Rand.normal(16, dim));
        for (Activation act : Activation.values()) {
            SameDiff sd = SameDiff.create();
            Mlp mlp = Mlp.load(scope(sd, m).pp("ff"), dim, hidden, true, act, "intermediate_dense", "output_dense");
            SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, dim);
            SDVariable y = mlp.forwardRows(x);
            INDArray xv = Rand.normal(17, 3, dim);
            double[] h = Reference.linear(Reference.of(xv), 3, dim, Reference.of(m.get("ff.intermediate_dense.weight")),
                    Reference.of(m.get("ff.intermediate_dense.bias")), hidden);
            for (int i = 0; i < h.length; i++) h[i] = apply(act, h[i]);
            double[] want = Reference.linear(h, 3, hidden, Reference.of(m.get("ff.output_dense.weight")),
                    Reference.of(m.get("ff.output_dense.bias")), dim);
            assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-9, act.name());
            GradientCheck.of(sd, y).feed(Map.of("x", xv)).inputs("x").check();
        }
        assertEquals(Activation.SILU, Activation.fromHf("swish"));
        assertThrows(IllegalArgumentException.class, () -> Activation.fromHf("mish"));
    }

    static double apply(Activation a, double v) {
        return switch (a) {
            case SILU -> Reference.silu(v);
            case GELU -> 0.5 * v * (1 + erf(v / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            case RELU -> Math.max(0, v);
            case SWOOSH_L -> Math.log(1 + Math.exp(v - 4)) - 0.08 * v - 0.035;
            case SWOOSH_R -> Math.log(1 + Math.exp(v - 1)) - 0.08 * v - 0.313261687;
        };
    }

    /** erf by its Taylor series (|v| is small here), accurate to 1e-15. */
    static double erf(double v) {
        double sum = 0, term = v;
        for (int n = 0; n < 80; n++) {
            sum += term / (2 * n + 1);
            term *= -v * v / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    private static final class Transforms {
        static INDArray exp(INDArray a) { return org.nd4j.linalg.ops.transforms.Transforms.exp(a, true); }
    }
}
