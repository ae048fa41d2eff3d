package bloom4j.train;

/**
 * Learning rate with linear warmup then cosine decay, a pure function of the update number t = 1, 2, ... (nanoGPT's
 * {@code get_lr}; HF {@code get_cosine_schedule_with_warmup} with a floor):
 * <pre>
 *   t ≤ warmup:  lr = peak · t / warmup
 *   t > warmup:  lr = min + (peak − min) · ½ (1 + cos(π · min(1, (t − warmup) / (total − warmup)))),   min = peak · minRatio
 * </pre>
 * Counting from 1 makes the first update use peak/warmup; HF counts from 0 and spends its first update at lr 0.
 */
public record WarmupCosine(double peak, int warmup, int total, double minRatio) {

    public WarmupCosine {
        if (!(peak > 0) || !Double.isFinite(peak)) throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        if (warmup < 0 || total <= 0 || warmup > total) {
            throw new IllegalArgumentException("need 0 <= warmup <= total and total > 0, got warmup " + warmup + ", total " + total);
        }
        if (!(minRatio >= 0 && minRatio <= 1)) throw new IllegalArgumentException("minRatio must be in [0, 1], got " + minRatio);
    }

    /** A constant rate (no warmup, no decay). */
    public static WarmupCosine constant(double lr) { return new WarmupCosine(lr, 0, 1, 1); }

    /** The rate of update {@code t} (1-based). */
    public double lr(int t) {
        if (t < 1) throw new IllegalArgumentException("updates are numbered from 1, got " + t);
        if (t <= warmup) return peak * t / warmup;
        double min = peak * minRatio;
        if (total == warmup) return min;
        double progress = Math.min(1.0, (double) (t - warmup) / (total - warmup));
        return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
