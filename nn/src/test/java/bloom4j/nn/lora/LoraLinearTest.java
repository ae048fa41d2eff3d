package bloom4j.nn.lora;

import bloom4j.nn.GradientCheck;
import bloom4j.nn.Linear;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Rand;
import bloom4j.nn.Reference;
import bloom4j.nn.Scope;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** One adapted Linear in DOUBLE: the forward against closed forms, numerical gradient checks, merge and unmerge. */
class LoraLinearTest {
    static final int IN = 6, OUT = 5, R = 3, N = 4;
    static final String M = "blk.proj";

    /** A single adapted Linear over random base weights; adapter tensors random too (as after training) unless {@code fresh}. */
    static final class Net {
        final SameDiff sd = SameDiff.create();
        final LoraAdapters adapters;
        final SDVariable x, y;
        final LoraLinear layer;
        final Map<String, INDArray> base;

        Net(LoraConfig cfg, boolean training, boolean normAsConstant, long seed) {
            base = Map.of(M + ".weight", Rand.normal(seed, 0.5, OUT, IN), M + ".bias", Rand.normal(seed + 1, 0.5, OUT));
            Map<String, INDArray> all = new HashMap<>(base);
            all.put(M + ".lora_A.weight", Rand.normal(seed + 2, 0.4, R, IN));
            all.put(M + ".lora_B.weight", Rand.normal(seed + 3, 0.4, OUT, R));
            if (cfg.useDora()) all.put(M + ".lora_magnitude_vector", Rand.normal(seed + 4, 0.3, OUT).addi(2));
            LoraAdapters a = LoraAdapters.load(cfg).training(training);
            adapters = normAsConstant ? a.normAsConstant() : a;
            Scope root = Scope.root(sd, ParamSource.of(all), LoadOptions.inference().dtype(DataType.DOUBLE).adapters(adapters, true));
            x = sd.placeHolder("x", DataType.DOUBLE, -1, IN);
            y = Linear.load(root.pp(M), IN, OUT, true).forwardRows(x);
            layer = adapters.layers().get(M);
        }

        INDArray out(Map<String, INDArray> feed) { return sd.output(feed, y.name()).get(y.name()); }
    }

    static LoraConfig lora() { return LoraConfig.lora(R, 5, Targets.names("proj")); }

    static INDArray mask(long seed, double p) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[N * IN];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() < p ? 0 : 1 / (1 - p);
        return Nd4j.create(v, new long[] {N, IN}, 'c');
    }

    /** y by the spec's formulas, element by element, in double. */
    static double[] closedForm(Net n, INDArray xv, INDArray maskv) {
        double[] x = Reference.of(xv), w = Reference.of(n.base.get(M + ".weight")), b = Reference.of(n.base.get(M + ".bias"));
        double[] a = Reference.of(n.layer.loraA().getArr()), bb = Reference.of(n.layer.loraB().getArr());
        double s = n.layer.scaling();
        double[] u = x.clone();
        if (maskv != null) {
            double[] mk = Reference.of(maskv);
            for (int i = 0; i < u.length; i++) u[i] *= mk[i];
        }
        double[] ba = new double[OUT * IN];   // B·A
        for (int o = 0; o < OUT; o++) for (int i = 0; i < IN; i++) for (int k = 0; k < R; k++) ba[o * IN + i] += bb[o * R + k] * a[k * IN + i];
        double[] kScale = new double[OUT];
        if (n.layer.dora()) {
            double[] m = Reference.of(n.layer.magnitude().getArr());
            for (int o = 0; o < OUT; o++) {
                double ss = 0;
                for (int i = 0; i < IN; i++) ss += Math.pow(w[o * IN + i] + s * ba[o * IN + i], 2);
                kScale[o] = m[o] / Math.sqrt(ss);
            }
        }
        double[] y = new double[N * OUT];
        for (int r = 0; r < N; r++) {
            for (int o = 0; o < OUT; o++) {
                double wx = 0, wu = 0, bau = 0;
                for (int i = 0; i < IN; i++) {
                    wx += w[o * IN + i] * x[r * IN + i];
                    wu += w[o * IN + i] * u[r * IN + i];
                    bau += ba[o * IN + i] * u[r * IN + i];
                }
                double k = kScale[o];
                y[r * OUT + o] = !n.layer.dora() ? wx + b[o] + s * bau
                        : wx + b[o] + (k - 1) * wu + k * s * bau;   // eval is the same with u = x
            }
        }
        return y;
    }

    @Test void loraForwardIsBasePlusScaledBA() {
        Net n = new Net(lora(), false, false, 1);
        assertEquals(5.0 / R, n.layer.scaling(), 0);
        INDArray xv = Rand.normal(10, N, IN);
        assertArrayEquals(closedForm(n, xv, null), Reference.of(n.out(Map.of("x", xv))), 1e-12);
    }

    @Test void rsloraScalesByRootRank() {
        Net n = new Net(lora().withRslora(true), false, false, 2);
        assertEquals(5.0 / Math.sqrt(R), n.layer.scaling(), 1e-15);
        INDArray xv = Rand.normal(11, N, IN);
        assertArrayEquals(closedForm(n, xv, null), Reference.of(n.out(Map.of("x", xv))), 1e-12);
    }

    @Test void doraEvalAndTrainFormulas() {
        INDArray xv = Rand.normal(12, N, IN);
        Net eval = new Net(lora().withDora(true), false, false, 3);
        assertArrayEquals(closedForm(eval, xv, null), Reference.of(eval.out(Map.of("x", xv))), 1e-12);
        // The training graph with dropout: the base term sees x, the correction and LoRA terms dropout(x).
        Net train = new Net(lora().withDora(true).withDropout(0.4), true, false, 3);
        assertNotNull(train.layer.dropoutMask());
        INDArray mk = mask(5, 0.4);
        INDArray got = train.out(Map.of("x", xv, train.layer.dropoutMask().name(), mk));
        assertArrayEquals(closedForm(train, xv, mk), Reference.of(got), 1e-12);
        // ... which is not k ⊙ (W + sBA)·dropout(x) + b
        double[] naive = closedForm(train, xv.mul(mk), null);
        assertTrue(maxDiff(naive, Reference.of(got)) > 1e-3);
        // A mask of ones gives the eval output.
        INDArray ones = train.out(new HashMap<>(Map.of("x", xv, train.layer.dropoutMask().name(), Nd4j.ones(DataType.DOUBLE, N, IN))));
        assertArrayEquals(Reference.of(eval.out(Map.of("x", xv))), Reference.of(ones), 1e-12);
    }

    @Test void loraWithDropoutMask() {
        Net n = new Net(lora().withDropout(0.3), true, false, 4);
        INDArray xv = Rand.normal(13, N, IN), mk = mask(6, 0.3);
        assertArrayEquals(closedForm(n, xv, mk), Reference.of(n.out(Map.of("x", xv, n.layer.dropoutMask().name(), mk))), 1e-12);
    }

    @Test void onlyAdapterTensorsTrain() {
        Net n = new Net(lora().withDora(true), false, false, 5);
        assertEquals(VariableType.CONSTANT, n.sd.getVariable(M + ".weight").getVariableType());
        assertEquals(VariableType.CONSTANT, n.sd.getVariable(M + ".bias").getVariableType());
        for (String k : List.of(".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector")) {
            assertEquals(VariableType.VARIABLE, n.sd.getVariable(M + k).getVariableType(), k);
        }
    }

    @Test void gradientLora() {
        Net n = new Net(lora(), false, false, 6);
        GradientCheck.of(n.sd, n.y).feed(Map.of("x", Rand.normal(14, N, IN))).inputs("x").check();
    }

    @Test void gradientRslora() {
        Net n = new Net(lora().withRslora(true), false, false, 7);
        GradientCheck.of(n.sd, n.y).feed(Map.of("x", Rand.normal(15, N, IN))).inputs("x").check();
    }

    @Test void gradientLoraTrainWithMask() {
        Net n = new Net(lora().withDropout(0.5), true, false, 8);
        GradientCheck.of(n.sd, n.y).feed(Map.of("x", Rand.normal(16, N, IN), n.layer.dropoutMask().name(), mask(7, 0.5)))
                .inputs("x").check();
    }

    /**
     * DoRA's gradients are those of a detached norm, which is not the derivative of the forward: numerically they are checked on the
     * graph with the norm as a constant, and the real graph (StopGradient) must give the same analytic gradients.
     */
    @Test void gradientDoraEval() {
        INDArray xv = Rand.normal(17, N, IN);
        Net fixed = new Net(lora().withDora(true), false, true, 9);
        GradientCheck.of(fixed.sd, fixed.y).feed(Map.of("x", xv)).inputs("x").check();
        assertSameGradients(new Net(lora().withDora(true), false, false, 9), fixed, Map.of("x", xv));
    }

    @Test void gradientDoraTrainWithMask() {
        Map<String, INDArray> feed = new HashMap<>();
        Net fixed = new Net(lora().withDora(true).withDropout(0.5), true, true, 10);
        feed.put("x", Rand.normal(18, N, IN));
        feed.put(fixed.layer.dropoutMask().name(), mask(8, 0.5));
        GradientCheck.of(fixed.sd, fixed.y).feed(feed).inputs("x").check();
        assertSameGradients(new Net(lora().withDora(true).withDropout(0.5), true, false, 10), fixed, feed);
    }

    /** The numerical check of the real DoRA graph fails for A and B: the stop-gradient is really there. */
    @Test void doraNormIsDetached() {
        Net n = new Net(lora().withDora(true), false, false, 11);
        AssertionError e = assertThrows(AssertionError.class,
                () -> GradientCheck.of(n.sd, n.y).feed(Map.of("x", Rand.normal(19, N, IN))).params(M + ".lora_B.weight").check());
        assertTrue(e.getMessage().contains("lora_B"), e.getMessage());
        // m and x do not reach the norm: their gradients are true derivatives.
        Net n2 = new Net(lora().withDora(true), false, false, 11);
        GradientCheck.of(n2.sd, n2.y).feed(Map.of("x", Rand.normal(19, N, IN))).params(M + ".lora_magnitude_vector").inputs("x").check();
    }

    static void assertSameGradients(Net real, Net fixed, Map<String, INDArray> feed) {
        List<String> names = List.of(M + ".lora_A.weight", M + ".lora_B.weight", M + ".lora_magnitude_vector", "x");
        Map<String, INDArray> g1 = gradients(real, feed, names), g2 = gradients(fixed, feed, names);
        for (String k : names) assertArrayEquals(Reference.of(g2.get(k)), Reference.of(g1.get(k)), 1e-12, k);
    }

    static Map<String, INDArray> gradients(Net n, Map<String, INDArray> feed, List<String> names) {
        INDArray g = Rand.normal(99, N, OUT);
        SDVariable loss = n.y.mul(n.sd.constant("g", g)).sum();
        n.sd.setLossVariables(loss.name());
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            n.sd.createGradFunction("x");
            return n.sd.calculateGradients(feed, names);
        } finally {
            System.setOut(out);
        }
    }

    @Test void mergeMatchesForwardAndUnmergeInverts() {
        for (LoraConfig cfg : List.of(lora(), lora().withRslora(true), lora().withDora(true))) {
            Net n = new Net(cfg, false, false, 12);
            INDArray xv = Rand.normal(20, N, IN);
            LoraLinear.Merged m = n.layer.merge(true);
            INDArray wMerged = m.weight();
            INDArray yMerged = xv.mmul(wMerged.transpose()).addRowVector(n.base.get(M + ".bias"));
            assertArrayEquals(Reference.of(n.out(Map.of("x", xv))), Reference.of(yMerged), 1e-12, cfg.toString());
            assertArrayEquals(Reference.of(n.base.get(M + ".weight")), Reference.of(n.layer.unmerge(m)), 1e-12);
            assertEquals(cfg.useDora(), m.weightNorm() != null);
            assertArrayEquals(Reference.of(n.base.get(M + ".weight")), Reference.of(n.sd.getVariable(M + ".weight").getArr()), 0,
                    "merging computes arrays; the graph's base weight is untouched");
        }
    }

    @Test void doraUnmergeNeedsTheCachedNorm() {
        Net n = new Net(lora().withDora(true), false, false, 13);
        LoraLinear.Merged m = n.layer.merge(false);
        assertThrows(IllegalArgumentException.class, () -> n.layer.unmerge(new LoraLinear.Merged(m.weight(), null)));
    }

    @Test void safeMergeRefusesNonFinite() {
        Net n = new Net(lora(), false, false, 14);
        n.layer.loraA().getArr().putScalar(0, 0, Double.POSITIVE_INFINITY);
        MergeException e = assertThrows(MergeException.class, () -> n.layer.merge(true));
        assertEquals(M, e.module());
        assertTrue(e.getMessage().startsWith("NaNs detected in the merged weights"), e.getMessage());
        assertFalse(Double.isFinite(n.layer.merge(false).weight().sumNumber().doubleValue()), "unsafe merge returns what it computed");
        assertThrows(MergeException.class, () -> n.adapters.merge(true));
    }

    @Test void doraZeroRowIsNanAsInPeft() {
        Net n = new Net(lora().withDora(true), false, false, 15);
        n.sd.getVariable(M + ".weight").getArr().getRow(2).assign(0);
        n.layer.loraB().getArr().getRow(2).assign(0);
        n.layer.magnitude().getArr().putScalar(2, 0);
        assertThrows(MergeException.class, () -> n.layer.merge(true));
    }

    static double maxDiff(double[] a, double[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
