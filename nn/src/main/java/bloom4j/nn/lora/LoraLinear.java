package bloom4j.nn.lora;

import bloom4j.nn.Linear;
import bloom4j.nn.LinearAdapters;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;

/**
 * A LoRA or DoRA adapter on one {@link Linear}, as PEFT's {@code lora.Linear} (peft@5d602fd {@code tuners/lora/layer.py} L1035-1076,
 * {@code variants.py} {@code DoraLinearVariant} L138-248, {@code dora.py} L85-166). With base weight W {@code [out, in]}, bias b,
 * A = {@code lora_A.weight [r, in]}, B = {@code lora_B.weight [out, r]}, scaling s, u = dropout(x) = x ⊙ mask:
 * <pre>
 *   LoRA:                    y = (W x + b) + s·B A u
 *   DoRA, k = m / n,  n = ‖W + s·B A‖ per output row, recomputed every forward and detached (no gradient flows through it):
 *     no dropout (eval):     y = k ⊙ (W x + s·B A x) + b                      (PEFT: (Wx+b) + (k−1)⊙Wx + k⊙s·BAx, the same sum)
 *     dropout (training):    y = (W x + b) + (k−1) ⊙ (W u) + k ⊙ (s·B A u)     (the base term sees x, the others u: DoraLinearVariant.forward)
 * </pre>
 * m = {@code lora_magnitude_vector [out]}. W and b stay frozen constants; A, B and m are the adapter's parameters, under the keys
 * {@code <module>.lora_A.weight}, {@code <module>.lora_B.weight} and {@code <module>.lora_magnitude_vector} (PEFT's file names).
 *
 * <p>Dropout has no gradient in SameDiff M2.1, so it is an explicit mask: a placeholder {@code <module>.lora_dropout.mask [N, in]}
 * holding 0 or 1/(1−p), drawn by {@link LoraAdapters#dropoutMasks} or injected (a mask of ones gives the eval output exactly).
 *
 * <p>Merging works on arrays, outside the graph: a SameDiff graph is static, so a merged model is the plain model built again over
 * the merged weights ({@link LoraAdapters#merge}, PEFT's {@code merge_and_unload}).
 */
public final class LoraLinear implements LinearAdapters.Adapter {
    private final String module;
    private final Linear base;
    private final SDVariable loraA;       // [r, in]
    private final SDVariable loraB;       // [out, r]
    private final SDVariable magnitude;   // [out], DoRA only
    private final SDVariable mask;        // [N, in] placeholder, only when training with dropout
    private final int rank;
    private final double alpha;
    private final double scaling;
    private final double dropout;
    private final boolean normAsConstant;
    private SDVariable normScale;         // k = m / n [out], built once per graph

    LoraLinear(String module, Linear base, SDVariable loraA, SDVariable loraB, SDVariable magnitude, SDVariable mask, int rank,
               double alpha, double scaling, double dropout, boolean normAsConstant) {
        this.module = module;
        this.base = base;
        this.loraA = loraA;
        this.loraB = loraB;
        this.magnitude = magnitude;
        this.mask = mask;
        this.rank = rank;
        this.alpha = alpha;
        this.scaling = scaling;
        this.dropout = dropout;
        this.normAsConstant = normAsConstant;
    }

    @Override public SDVariable forwardRows(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable u = mask == null ? x : x.mul(mask);                                              // dropout(x) [N, in]
        SDVariable lora = sd.mmul(sd.mmul(u, loraA, false, true, false), loraB, false, true, false);   // B(A(u)) [N, out]
        SDVariable w = base.weight(), b = base.bias();
        if (magnitude == null) return base.baseForwardRows(x).add(lora.mul(scaling));           // (Wx + b) + s·BAu
        SDVariable k = normScale(sd);                                                             // [out]
        SDVariable wx = sd.mmul(x, w, false, true, false);                                        // W x [N, out]
        if (mask == null) {
            SDVariable y = wx.add(lora.mul(scaling)).mul(k);                                      // k ⊙ (Wx + s·BAx)
            return b == null ? y : y.add(b);
        }
        SDVariable wu = sd.mmul(u, w, false, true, false);                                        // W u [N, out]
        SDVariable y = b == null ? wx : wx.add(b);
        return y.add(wu.mul(k.sub(1.0))).add(lora.mul(scaling).mul(k));                         // + (k−1)⊙Wu + k⊙s·BAu
    }

    /** k = m / stopgrad(‖W + s·B·A‖ per row), {@code [out]}. */
    private SDVariable normScale(SameDiff sd) {
        if (normScale != null) return normScale;
        SDVariable n;
        if (normAsConstant) {
            // Gradient checks only: the norm frozen at its current value is what "detached" means to a numerical derivative.
            n = sd.constant(module + ".lora_weight_norm", weightNorm());
        } else {
            SDVariable delta = sd.mmul(loraB, loraA);                                             // B·A [out, in]
            SDVariable v = base.weight().add(delta.mul(scaling));                                 // W + s·B·A
            n = new StopGradient(sd, sd.norm2(v, false, 1)).outputVariable();                     // [out], no gradient (dora.py L152)
        }
        normScale = magnitude.div(n);
        return normScale;
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Arrays: delta weight, weight norm, merge, unmerge (PEFT layer.py L915-1033, variants.py L170-218)

    /** ΔW = (B·A)·s {@code [out, in]}, PEFT's {@code get_delta_weight}, from the current parameter values. */
    public INDArray deltaWeight() { return loraB.getArr().mmul(loraA.getArr()).muli(scaling); }

    /** ‖W + ΔW‖ per output row {@code [out]}, the DoRA norm that {@link #merge} caches. */
    public INDArray weightNorm() { return base.weight().getArr().add(deltaWeight()).norm2(1); }

    /**
     * The merged weight (LoRA: W + ΔW; DoRA: diag(m / n)·(W + ΔW) with n = ‖W + ΔW‖ per row) and, for DoRA, the norm n that
     * {@link #unmerge} needs (it cannot be recomputed from the merged weight). The bias is unchanged in both. With {@code safe}, a
     * result holding NaN or ±∞ is refused, as PEFT's {@code safe_merge}.
     */
    public Merged merge(boolean safe) {
        INDArray wPlus = base.weight().getArr().add(deltaWeight());
        INDArray norm = null;
        INDArray merged = wPlus;
        if (magnitude != null) {
            norm = wPlus.norm2(1);                                                                 // [out]
            INDArray k = magnitude.getArr().div(norm).reshape(-1, 1);                               // [out, 1]
            merged = wPlus.mulColumnVector(k);
        }
        if (safe && !allFinite(merged)) {
            throw new MergeException(module, "NaNs detected in the merged weights. The adapter on '" + module + "' seems to be broken"
                    + (magnitude != null ? " (a DoRA weight row of zero norm gives 0/0)" : ""));
        }
        return new Merged(merged, norm);
    }

    /** The base weight back from a merged one: LoRA W' − ΔW; DoRA W'·n/m − ΔW with the cached norm n. */
    public INDArray unmerge(Merged merged) {
        INDArray w = merged.weight();
        if (magnitude != null) {
            if (merged.weightNorm() == null) {
                throw new IllegalArgumentException("unmerging the DoRA adapter on '" + module + "' needs the weight norm cached by merge()");
            }
            INDArray k = magnitude.getArr().div(merged.weightNorm()).reshape(-1, 1);
            w = w.divColumnVector(k);
        }
        return w.sub(deltaWeight());
    }

    /** A merged weight and, for DoRA, the weight norm that unmerging needs. */
    public record Merged(INDArray weight, INDArray weightNorm) {}

    private static boolean allFinite(INDArray a) {
        double s = a.sumNumber().doubleValue();
        if (Double.isFinite(s)) return true;
        // The sum can overflow on finite values; check element-wise before refusing.
        INDArray d = a.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        for (long i = 0; i < d.length(); i++) if (!Double.isFinite(d.getDouble(i))) return false;
        return true;
    }

    /** The module name as PEFT sees it (scope path under {@link LoraAdapters}' root). */
    public String module() { return module; }

    public Linear base() { return base; }

    public SDVariable loraA() { return loraA; }

    public SDVariable loraB() { return loraB; }

    /** {@code [out]}, or null for LoRA. */
    public SDVariable magnitude() { return magnitude; }

    /** The dropout mask placeholder, or null when the graph has no dropout here. */
    public SDVariable dropoutMask() { return mask; }

    public boolean dora() { return magnitude != null; }

    public int rank() { return rank; }

    public double alpha() { return alpha; }

    public double scaling() { return scaling; }

    public double dropout() { return dropout; }
}
