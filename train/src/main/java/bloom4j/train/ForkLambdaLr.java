package bloom4j.train;

/**
 * The fine-tuning fork's learning-rate factor, a {@code torch.optim.lr_scheduler.LambdaLR} stepped after every optimizer step
 * (ayutaz/SongBloom@8f7d34f {@code SongBloom/models/songbloom/songbloom_pl.py} {@code configure_optimizers}):
 * <pre>
 *   λ(k) = k / max(1, W)                                  k &lt; W
 *        = 1                                              S ≤ W
 *        = max(0, ½ (1 + cos(π (k − W) / max(1, S − W)))) otherwise (not clamped: λ rises again after S)
 * </pre>
 * Update k (1-based) runs at {@code base · λ(k − 1)}, so the first update of a warmed-up run has rate 0. Used to continue a run
 * resumed from the fork's Lightning checkpoint at the rate it would have had; bloom4j's own runs use {@link WarmupCosine}.
 */
public record ForkLambdaLr(int warmup, int maxSteps) {
    public ForkLambdaLr {
        if (warmup < 0 || maxSteps < 0) throw new IllegalArgumentException("warmup and max steps must be >= 0, got " + warmup + ", " + maxSteps);
    }

    /** λ after {@code k} scheduler steps. */
    public double lambda(long k) {
        if (k < warmup) return (double) k / Math.max(1, warmup);
        if (maxSteps <= warmup) return 1.0;
        return Math.max(0.0, 0.5 * (1 + Math.cos(Math.PI * (k - warmup) / Math.max(1, maxSteps - warmup))));
    }
}
