package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Numerical gradient check of a SameDiff graph: central differences in DOUBLE against {@code sd.calculateGradients}.
 *
 * <p>The scalar checked is {@code L = sum(y ⊙ g)} with {@code g} a fixed random array of y's shape, so every output element reaches the
 * loss with its own non-symmetric weight (a plain {@code sum(y)} would hide, for example, a softmax gradient, whose rows sum to zero).
 * The loss is built here by hand; SameDiff's loss ops ignore the upstream gradient in M2.1.
 *
 * <p>Checked are all trainable variables (or those named) and the named input placeholders, each at up to {@code maxPerArray}
 * randomly chosen elements. An element passes when {@code |a − n| ≤ absTolerance} or {@code |a − n| / max(|a|, |n|) ≤ maxRelError}:
 * the absolute floor keeps round-off on near-zero gradients (≈ 1e-16·|L|/eps) from failing the relative test.
 *
 * <pre>{@code
 * GradientCheck.of(sd, y).feed(Map.of("x", x)).inputs("x").check();
 * }</pre>
 */
public final class GradientCheck {
    private final SameDiff sd;
    private final SDVariable output;
    private final Map<String, INDArray> feed = new LinkedHashMap<>();
    private final List<String> inputs = new ArrayList<>();
    private List<String> params;
    private double eps = 1e-6;
    private double maxRelError = 1e-5;
    private double absTolerance = 1e-8;
    private int maxPerArray = 30;
    private long seed = 12345;

    private GradientCheck(SameDiff sd, SDVariable output) {
        this.sd = sd;
        this.output = output;
    }

    public static GradientCheck of(SameDiff sd, SDVariable output) { return new GradientCheck(sd, output); }

    /** Placeholder values (copied: perturbations never reach the caller's arrays). */
    public GradientCheck feed(Map<String, INDArray> values) {
        values.forEach((k, v) -> feed.put(k, v.dup()));
        return this;
    }

    /** Placeholders whose gradient is checked too (they must be fed, in DOUBLE). */
    public GradientCheck inputs(String... names) {
        inputs.addAll(Arrays.asList(names));
        return this;
    }

    /** Restricts the parameters checked (default: every VARIABLE of the graph). */
    public GradientCheck params(String... names) {
        params = Arrays.asList(names);
        return this;
    }

    public GradientCheck eps(double e) { eps = e; return this; }

    public GradientCheck maxRelError(double e) { maxRelError = e; return this; }

    public GradientCheck absTolerance(double e) { absTolerance = e; return this; }

    public GradientCheck maxPerArray(int n) { maxPerArray = n; return this; }

    public GradientCheck seed(long s) { seed = s; return this; }

    /** One array's outcome. */
    public record Entry(String name, int checked, double maxRelError, double maxAbsError, long worstIndex, boolean passed) {}

    /** Runs the check; throws {@link AssertionError} listing every failing array, else returns the per-array results. */
    public List<Entry> check() {
        List<String> names = new ArrayList<>();
        if (params != null) {
            names.addAll(params);
        } else {
            for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) names.add(v.name());
        }
        names.addAll(inputs);
        if (names.isEmpty()) throw new IllegalArgumentException("nothing to check: no trainable variables and no inputs named");
        for (String n : names) {
            INDArray a = arrayOf(n);
            if (a.dataType() != DataType.DOUBLE) throw new IllegalArgumentException("'" + n + "' is " + a.dataType() + ": check in DOUBLE");
        }

        // L = sum(y * g) with g fixed and random.
        INDArray y = sd.output(feed, output.name()).get(output.name());
        Random r = new Random(seed);
        INDArray g = Nd4j.create(DataType.DOUBLE, y.shape());
        for (long i = 0; i < g.length(); i++) g.putScalar(i, r.nextGaussian() + 0.5);
        SDVariable loss = output.mul(sd.constant(output.name() + ".gradcheck_weights", g)).sum();
        sd.setLossVariables(loss.name());

        Map<String, INDArray> analytic;
        PrintStream out = System.out;
        try {
            // M2.1 prints "Added differentiated op ..." for every op while building the gradient function.
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            sd.createGradFunction(inputs.toArray(new String[0]));
            analytic = sd.calculateGradients(feed, names);
        } finally {
            System.setOut(out);
        }

        List<Entry> result = new ArrayList<>();
        StringBuilder failures = new StringBuilder();
        for (String n : names) {
            INDArray a = arrayOf(n);
            INDArray grad = analytic.get(n);
            long len = a.length();
            long[] idx = sample(len, r);
            double worstRel = 0, worstAbs = 0;
            long worst = -1;
            boolean ok = true;
            for (long i : idx) {
                double orig = a.getDouble(i);
                a.putScalar(i, orig + eps);
                double lp = loss(loss);
                a.putScalar(i, orig - eps);
                double lm = loss(loss);
                a.putScalar(i, orig);
                double num = (lp - lm) / (2 * eps);
                double an = grad == null ? 0 : grad.getDouble(i);
                double abs = Math.abs(an - num);
                double rel = abs == 0 ? 0 : abs / Math.max(Math.abs(an), Math.abs(num));
                boolean pass = abs <= absTolerance || rel <= maxRelError;
                if (!pass) {
                    ok = false;
                    failures.append(String.format("%n  %s[%d]: analytic %.10g, numeric %.10g, rel %.3g", n, i, an, num, rel));
                }
                if (abs > absTolerance && rel > worstRel) {
                    worstRel = rel;
                    worst = i;
                }
                worstAbs = Math.max(worstAbs, abs);
            }
            result.add(new Entry(n, idx.length, worstRel, worstAbs, worst, ok));
        }
        if (failures.length() > 0) throw new AssertionError("gradient check failed:" + failures);
        return result;
    }

    private INDArray arrayOf(String name) {
        if (inputs.contains(name)) {
            INDArray a = feed.get(name);
            if (a == null) throw new IllegalArgumentException("input '" + name + "' is not fed");
            return a;
        }
        SDVariable v = sd.getVariable(name);
        if (v == null) throw new IllegalArgumentException("no variable '" + name + "'");
        return v.getArr();
    }

    private double loss(SDVariable loss) { return sd.output(feed, loss.name()).get(loss.name()).getDouble(0); }

    private long[] sample(long len, Random r) {
        if (len <= maxPerArray) {
            long[] all = new long[(int) len];
            for (int i = 0; i < all.length; i++) all[i] = i;
            return all;
        }
        return r.longs(0, len).distinct().limit(maxPerArray).sorted().toArray();
    }
}
