package bloom4j.train;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;

/**
 * Token cross-entropy over logits rows, written so that its gradient is right. SameDiff M2.1's {@code sd.loss.*} ops ignore the
 * upstream gradient, so this is composed from ops whose
 * backward is verified:
 * <pre>
 *   loss = − Σ_i w_i · Σ_v logSoftmax(z_i)_v · onehot(y_i)_v        z [N, V], y [N], w [N, 1]
 * </pre>
 * The per-row weight w carries both the ignore index (w = 0) and the mean: w = 1 / (number of non-ignored rows of the whole
 * optimisation step). So with gradient accumulation each micro-batch is weighted by the token count of the full batch, and the summed
 * micro-batch losses and gradients equal those of one batch, exactly as {@code F.cross_entropy(reduction="mean", ignore_index=...)}
 * over the full batch.
 *
 * <p>Placeholders: {@code <name>.labels} INT64 {@code [N]} and {@code <name>.weights} {@code [N, 1]}, fed by {@link #feed}.
 */
public final class CrossEntropy {
    private final SDVariable labels;
    private final SDVariable weights;
    private final SDVariable loss;
    private final int vocab;

    private CrossEntropy(SDVariable labels, SDVariable weights, SDVariable loss, int vocab) {
        this.labels = labels;
        this.weights = weights;
        this.loss = loss;
        this.vocab = vocab;
    }

    /** The loss over {@code logits [N, vocab]}, named {@code name} (also the prefix of the placeholders). */
    public static CrossEntropy build(SDVariable logits, int vocab, String name) {
        SameDiff sd = logits.getSameDiff();
        DataType dt = logits.dataType();
        SDVariable labels = sd.placeHolder(name + ".labels", DataType.INT64, -1);
        SDVariable weights = sd.placeHolder(name + ".weights", dt, -1, 1);
        SDVariable logp = sd.nn.logSoftmax(logits);                                     // [N, V], over the last axis
        SDVariable target = sd.oneHot(labels, vocab, -1, 1.0, 0.0, dt);                 // [N, V]
        SDVariable loss = logp.mul(target).mul(weights).sum().neg().rename(name);       // scalar
        return new CrossEntropy(labels, weights, loss, vocab);
    }

    public SDVariable loss() { return loss; }

    public int vocab() { return vocab; }

    /** The rows of {@code labels} that count: not {@code ignoreIndex}. */
    public static long countValid(long[] labels, long ignoreIndex) {
        long n = 0;
        for (long l : labels) if (l != ignoreIndex) n++;
        return n;
    }

    /**
     * Placeholder values for one (micro-)batch: labels {@code [N]} (ignored rows become label 0 with weight 0) and weights
     * {@code 1 / validInStep}, where {@code validInStep} counts the non-ignored rows of every micro-batch of the optimisation step.
     * Labels out of {@code [0, vocab)} other than {@code ignoreIndex} are refused.
     */
    public Map<String, INDArray> feed(long[] labelRows, long ignoreIndex, long validInStep) {
        if (validInStep <= 0) throw new IllegalArgumentException("the step has no label to learn from (all " + ignoreIndex + ")");
        long[] l = new long[labelRows.length];
        double[] w = new double[labelRows.length];
        for (int i = 0; i < l.length; i++) {
            long y = labelRows[i];
            if (y == ignoreIndex) continue;
            if (y < 0 || y >= vocab) {
                throw new IllegalArgumentException("label " + y + " at row " + i + " is outside [0, " + vocab + ") and is not the ignore index "
                        + ignoreIndex);
            }
            l[i] = y;
            w[i] = 1.0 / validInStep;
        }
        Map<String, INDArray> m = new HashMap<>();
        m.put(labels.name(), Nd4j.createFromArray(l));
        m.put(weights.name(), Nd4j.create(w, new long[] {w.length, 1}, 'c').castTo(weights.dataType()));
        return m;
    }
}
