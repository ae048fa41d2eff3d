package bloom4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Adam with decoupled weight decay, as {@code torch.optim.AdamW} (single-tensor path, {@code amsgrad=False}), applied in place to named
 * parameter arrays. ND4J M2.1 has no AdamW class, and the manual loop needs clipping and accumulation anyway. Per
 * parameter p with gradient g, at update t:
 * <pre>
 *   p ← p · (1 − lr·λ)                          decoupled decay, only for names {@code decay} accepts
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 */
public final class AdamW {

    /** torch defaults: β1 0.9, β2 0.999, ε 1e-8, weight decay 0.01. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
            }
            if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }

        public static Settings torchDefaults() { return new Settings(0.9, 0.999, 1e-8, 0.01); }

        public Settings weightDecay(double wd) { return new Settings(beta1, beta2, eps, wd); }
    }

    private final Settings s;
    private final Predicate<String> decay;
    private final Map<String, INDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, INDArray> expAvgSq = new LinkedHashMap<>();
    private int t;

    /** Every parameter except biases and norm gains (HF Trainer's grouping). */
    public static final Predicate<String> HF_DECAY = name -> !name.endsWith(".bias") && !name.contains("norm.");

    /** Decays every parameter except biases and norm gains (HF Trainer's grouping). */
    public AdamW(Settings s) { this(s, HF_DECAY); }

    public AdamW(Settings s, Predicate<String> decay) {
        this.s = s;
        this.decay = decay;
    }

    /** Updates every parameter of {@code params} in place with its gradient from {@code grads}; returns the update number. */
    public int step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
        t++;
        double bc1 = 1 - Math.pow(s.beta1(), t);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(s.beta2(), t));
        for (var e : params.entrySet()) {
            String name = e.getKey();
            INDArray p = e.getValue();
            INDArray g = grads.get(name);
            if (g == null) throw new IllegalArgumentException("no gradient for '" + name + "'");
            INDArray m = expAvg.computeIfAbsent(name, k -> Nd4j.zeros(p.dataType(), p.shape()));
            INDArray v = expAvgSq.computeIfAbsent(name, k -> Nd4j.zeros(p.dataType(), p.shape()));
            if (s.weightDecay() > 0 && decay.test(name)) p.muli(1 - lr * s.weightDecay());
            m.muli(s.beta1()).addi(g.mul(1 - s.beta1()));
            v.muli(s.beta2()).addi(g.mul(g).muli(1 - s.beta2()));
            INDArray denom = Transforms.sqrt(v, true).divi(bc2Sqrt).addi(s.eps());
            p.subi(m.div(denom).muli(lr / bc1));
        }
        return t;
    }

    /** Updates done so far. */
    public int steps() { return t; }

    /** The moments by {@code <param>.exp_avg} / {@code <param>.exp_avg_sq} (torch's state names), for saving. */
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, v) -> out.put(k + ".exp_avg", v));
        expAvgSq.forEach((k, v) -> out.put(k + ".exp_avg_sq", v));
        return Collections.unmodifiableMap(out);
    }

    /** Restores {@link #state()} and the update count. */
    public void load(Map<String, INDArray> state, int steps) {
        expAvg.clear();
        expAvgSq.clear();
        state.forEach((k, v) -> {
            if (k.endsWith(".exp_avg")) expAvg.put(k.substring(0, k.length() - ".exp_avg".length()), v.dup());
            else if (k.endsWith(".exp_avg_sq")) expAvgSq.put(k.substring(0, k.length() - ".exp_avg_sq".length()), v.dup());
            else throw new IllegalArgumentException("not an AdamW state key: '" + k + "'");
        });
        t = steps;
    }

    public Settings settings() { return s; }
}
