package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Root-mean-square normalisation, HF {@code LlamaRMSNorm} (transformers 4.44.1 {@code modeling_llama.py}):
 * {@code y = weight · x · rsqrt(mean(x², last axis) + eps)}.
 *
 * <ul>
 *   <li>weight {@code [dim]} (key {@code weight} unless told otherwise);</li>
 *   <li>input and output {@code [..., dim]}.</li>
 * </ul>
 *
 * <p>HF upcasts to fp32 for the statistics and casts back before the weight; graphs here run in FLOAT (or DOUBLE for gradient checks),
 * so that is the identity. There is no RMSNorm op in M2.1; this is six elementwise/reduce ops with an explicit positive axis.
 */
public final class RmsNorm implements Norm {
    private final SDVariable weight;   // [dim]
    private final double eps;

    private RmsNorm(SDVariable weight, double eps) {
        this.weight = weight;
        this.eps = eps;
    }

    /** Loads {@code weight [dim]} from {@code s}. */
    public static RmsNorm load(Scope s, long dim, double eps) { return load(s, dim, eps, "weight"); }

    /** Loads the gain from the leaf {@code weightLeaf} of {@code s}. */
    public static RmsNorm load(Scope s, long dim, double eps, String weightLeaf) {
        return new RmsNorm(s.param(weightLeaf, dim), eps);
    }

    /** Over a gain made elsewhere. */
    public static RmsNorm of(SDVariable weight, double eps) { return new RmsNorm(weight, eps); }

    @Override public SDVariable forward(SDVariable x, int rank) {
        int axis = rank - 1;                                            // positive: see Norm
        SDVariable ms = x.mul(x).mean(true, axis);                       // [..., 1]
        SDVariable inv = x.getSameDiff().math.rsqrt(ms.add(eps));        // [..., 1]
        return x.mul(inv).mul(weight);
    }

    public SDVariable weight() { return weight; }

    public double eps() { return eps; }
}
