package bloom4j.tensor.parity;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/** The comparisons of one parity run: one {@link Line} per output, PASS only when every line passes. */
public final class ParityReport {

    /**
     * One compared output. {@code maxRel} is over elements whose reference is non-zero. A line that is not an array comparison
     * (a count, a round trip, an expected error) is {@code numeric == false} and prints without error figures.
     */
    public record Line(String name, boolean numeric, double maxAbs, double maxRel, boolean pass, String detail) {
        @Override public String toString() {
            String s = numeric
                    ? String.format(Locale.ROOT, "%-48s max_abs=%.3e max_rel=%.3e %s", name, maxAbs, maxRel, pass ? "PASS" : "FAIL")
                    : String.format(Locale.ROOT, "%-48s %s", name, pass ? "PASS" : "FAIL");
            return detail == null || detail.isEmpty() ? s : s + "  (" + detail + ")";
        }
    }

    private final Tolerance tolerance;
    private final List<Line> lines = new ArrayList<>();
    private final Consumer<Line> listener;

    public ParityReport(Tolerance tolerance, Consumer<Line> listener) {
        this.tolerance = tolerance;
        this.listener = listener == null ? l -> { } : listener;
    }

    public Tolerance tolerance() { return tolerance; }

    /** Compares with the fixture tolerance; integer references are compared exactly. */
    public Line compare(String name, INDArray actual, INDArray expected) { return compare(name, actual, expected, tolerance); }

    /** Compares {@code |a-b| <= atol + rtol*|b|} element-wise; shapes must be equal; integer references exactly. */
    public Line compare(String name, INDArray actual, INDArray expected, Tolerance tol) {
        if (actual == null) return add(new Line(name, true, Double.NaN, Double.NaN, false, "no output produced"));
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            return add(new Line(name, true, Double.NaN, Double.NaN, false,
                    "shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape())));
        }
        boolean exact = !expected.dataType().isFPType();
        Tolerance t = exact ? Tolerance.EXACT : tol;
        double[] a = flat(actual);
        double[] b = flat(expected);
        double maxAbs = 0, maxRel = 0;
        int bad = 0, firstBad = -1;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            boolean same = a[i] == b[i] || (Double.isNaN(a[i]) && Double.isNaN(b[i]));
            if (!same) {
                maxAbs = Math.max(maxAbs, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
                if (b[i] != 0) maxRel = Math.max(maxRel, d / Math.abs(b[i]));
            }
            if (!t.accepts(a[i], b[i])) {
                if (bad++ == 0) firstBad = i;
            }
        }
        String detail = bad == 0 ? "" : bad + " of " + a.length + " elements outside " + t + "; first at flat index " + firstBad
                + ": got " + a[firstBad] + ", expected " + b[firstBad];
        return add(new Line(name, true, maxAbs, maxRel, bad == 0, detail));
    }

    /** Records a check that is not an array comparison (a count, a file round trip, an error that must be raised). */
    public Line check(String name, boolean pass, String detail) {
        return add(new Line(name, false, 0, 0, pass, detail));
    }

    private Line add(Line l) {
        lines.add(l);
        listener.accept(l);
        return l;
    }

    public List<Line> lines() { return Collections.unmodifiableList(lines); }

    /** True when at least one comparison was made and all passed. */
    public boolean passed() { return !lines.isEmpty() && lines.stream().allMatch(Line::pass); }

    private static double[] flat(INDArray x) {
        INDArray d = x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
        return d.length() == 0 ? new double[0] : d.dup('c').data().asDouble();
    }
}
