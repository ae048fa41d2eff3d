package bloom4j.nn.zipformer;

import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Zipformer's {@code BypassModule} at inference (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L747-804):
 * {@code orig + (x − orig) ⊙ bypass_scale}, {@code bypass_scale [D]} used raw (training clamps it and skips layers per sequence).
 */
public final class Bypass {
    private final SDVariable scale;

    private Bypass(SDVariable scale) { this.scale = scale; }

    public static Bypass load(Scope s, long dim) { return new Bypass(s.param("bypass_scale", dim)); }

    public SDVariable forwardRows(SDVariable orig, SDVariable x) { return orig.add(x.sub(orig).mul(scale)); }
}
