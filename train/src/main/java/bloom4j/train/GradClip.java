package bloom4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} (norm type 2). */
public final class GradClip {
    private GradClip() {}

    /** √(Σ ‖g‖²) over all gradients. */
    public static double globalNorm(Map<String, INDArray> grads) {
        double sq = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sq += n * n;
        }
        return Math.sqrt(sq);
    }

    /**
     * Scales every gradient in place by {@code maxNorm / (norm + 1e-6)} when that is below 1 (torch's coefficient), and returns the
     * norm before clipping. {@code maxNorm <= 0} disables clipping (the norm is still returned).
     */
    public static double clip(Map<String, INDArray> grads, double maxNorm) {
        double norm = globalNorm(grads);
        clip(grads, maxNorm, norm);
        return norm;
    }

    /**
     * Scales by torch's {@code clamp(maxNorm / (norm + 1e-6), max=1)}, with {@code norm} already computed, and returns that factor
     * (1 when clipping is off or the norm is not finite). torch multiplies even by 1; so does this (a no-op in floating point).
     */
    public static double clip(Map<String, INDArray> grads, double maxNorm, double norm) {
        if (!(maxNorm > 0) || !Double.isFinite(norm)) return 1.0;
        double coef = Math.min(1.0, maxNorm / (norm + 1e-6));
        if (coef < 1) for (INDArray g : grads.values()) g.muli(coef);
        return coef;
    }
}
