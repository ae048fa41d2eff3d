package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * SnakeBeta with log-scale parameters (stable-audio-tools / BigVGAN, {@code alpha_logscale=True}) on channels-first activations
 * {@code [B, C, T]}:
 * <pre>
 *   y = x + 1 / (exp(β) + 1e-9) · sin(x · exp(α))²        α, β: [C] (keys alpha, beta)
 * </pre>
 */
public final class SnakeBeta {
    static final double NO_DIV_BY_ZERO = 1e-9;

    private final SDVariable alpha;   // [C]
    private final SDVariable beta;    // [C]
    private final long channels;

    private SnakeBeta(SDVariable alpha, SDVariable beta, long channels) {
        this.alpha = alpha;
        this.beta = beta;
        this.channels = channels;
    }

    public static SnakeBeta load(Scope s, long channels) {
        return new SnakeBeta(s.param("alpha", channels), s.param("beta", channels), channels);
    }

    public static SnakeBeta of(SDVariable alpha, SDVariable beta, long channels) { return new SnakeBeta(alpha, beta, channels); }

    /** {@code x [B, C, T] → [B, C, T]}. */
    public SDVariable forward(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        SDVariable a = sd.math.exp(alpha).reshape(1, channels, 1);
        SDVariable invB = sd.math.exp(beta).add(NO_DIV_BY_ZERO).rdiv(1.0).reshape(1, channels, 1);
        SDVariable s = sd.math.sin(x.mul(a));
        return x.add(s.mul(s).mul(invB));
    }

    public SDVariable alpha() { return alpha; }

    public SDVariable beta() { return beta; }
}
