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
        if (maxNorm > 0 && Double.isFinite(norm)) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) for (INDArray g : grads.values()) g.muli(coef);
        }
        return norm;
    }
}
