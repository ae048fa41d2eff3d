package bloom4j.nn.zipformer;

import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Zipformer's {@code BiasNorm} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/scaling.py} L337-472):
 * {@code y = x · mean_c((x − bias)²)^(−1/2) · exp(log_scale)}. The output scales {@code x}, not {@code x − bias}; there is no epsilon.
 * Parameters {@code bias [D]} and the 0-dim {@code log_scale}; rows {@code [N, D]} in and out. (Upstream limits {@code log_scale} to
 * ±1.5 through its gradient in training only; the forward pass never clamps.)
 */
public final class BiasNorm {
    private final SDVariable bias;
    private final SDVariable logScale;

    private BiasNorm(SDVariable bias, SDVariable logScale) {
        this.bias = bias;
        this.logScale = logScale;
    }

    public static BiasNorm load(Scope s, long dim) { return new BiasNorm(s.param("bias", dim), s.param("log_scale")); }

    public SDVariable forwardRows(SDVariable x) {
        var sd = x.getSameDiff();
        SDVariable d = x.sub(bias);
        SDVariable meanSquare = d.mul(d).mean(true, 1);                      // [N, 1]; positive axis (keepDims with −1 is wrong in M2.1)
        return x.mul(sd.math.rsqrt(meanSquare)).mul(sd.math.exp(logScale));
    }
}
