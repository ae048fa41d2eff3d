package bloom4j.train;

import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.LoraLinear;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stops a run whose trainable parameters do not all learn. From a failure seen in the field: adapters on the AR model silently received
 * no gradient and the run looked healthy. At the first optimisation step every trainable parameter must get a gradient that is finite
 * and not all zero; otherwise {@link #check} throws a {@link TrainingException} naming each offender and what was wrong.
 *
 * <p>One exception is exact, not a symptom: with PEFT's initialisation B = 0, so the gradient of A (∂L/∂A = Bᵀ·…) is exactly zero
 * until B has moved. A parameter registered with a partner ({@link #forAdapters}: lora_A → its lora_B) is therefore checked at the
 * first step where the partner is not all zero — normally the second — and then with the same rule.
 */
public final class GradientGuard {
    private final Map<String, String> partners;
    private final Set<String> pending = new LinkedHashSet<>();
    private boolean started;

    /** {@code partners}: parameter → the parameter whose zero value makes its gradient legitimately zero. */
    public GradientGuard(Map<String, String> partners) {
        this.partners = Collections.unmodifiableMap(new LinkedHashMap<>(partners));
    }

    /** Each adapter's lora_A is waited for until its lora_B is non-zero. */
    public static GradientGuard forAdapters(LoraAdapters adapters) {
        Map<String, String> p = new LinkedHashMap<>();
        for (LoraLinear l : adapters.layers().values()) p.put(l.loraA().name(), l.loraB().name());
        return new GradientGuard(p);
    }

    /** Whether every parameter has been checked. */
    public boolean done() { return started && pending.isEmpty(); }

    /**
     * Checks the gradients of step {@code step} (1-based) before the update: at the first call every parameter of {@code values}, later
     * only those still waiting for their partner. {@code values} are the current parameter values.
     */
    public void check(int step, Map<String, INDArray> grads, Map<String, INDArray> values) {
        if (!started) {
            pending.addAll(values.keySet());
            started = true;
        }
        if (pending.isEmpty()) return;
        List<String> problems = new ArrayList<>();
        for (String name : new ArrayList<>(pending)) {
            String partner = partners.get(name);
            if (partner != null && values.containsKey(partner) && allZero(values.get(partner))) continue;   // exact zero: wait
            pending.remove(name);
            String problem = problem(grads.get(name));
            if (problem != null) problems.add(name + " " + java.util.Arrays.toString(values.get(name).shape()) + ": " + problem
                    + (partner != null && step > 1 ? " (checked at step " + step + ", once " + partner + " was non-zero)" : ""));
        }
        if (!problems.isEmpty()) {
            throw new TrainingException("at step " + step + ", " + problems.size() + " trainable parameter(s) got no usable gradient; the"
                    + " run would train nothing there while looking healthy. Check that these parameters reach the loss (adapter targets,"
                    + " frozen paths, detached ops):\n  " + String.join("\n  ", problems));
        }
    }

    /** null if the gradient is usable, else what is wrong with it. */
    static String problem(INDArray g) {
        if (g == null) return "no gradient computed (not connected to the loss)";
        INDArray d = g.castTo(DataType.DOUBLE);
        long nonFinite = 0, zero = 0;
        for (double v : d.dup('c').data().asDouble()) {
            if (!Double.isFinite(v)) nonFinite++;
            else if (v == 0) zero++;
        }
        if (nonFinite > 0) return "gradient not finite (" + nonFinite + " of " + g.length() + " elements NaN or infinite)";
        if (zero == g.length()) return "gradient all zero";
        return null;
    }

    private static boolean allZero(INDArray a) { return a.amaxNumber().doubleValue() == 0; }
}
