package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Layer normalisation over the last axis with epsilon, PyTorch {@code F.layer_norm(x, [dim], weight, bias, eps)}:
 * {@code y = (x − mean) · rsqrt(var + eps) · weight + bias}, with the biased variance.
 *
 * <ul>
 *   <li>weight {@code [dim]}, bias {@code [dim]} or none; their keys are the model's business (PyTorch: {@code weight}/{@code bias};
 *       SongBloom's DiT: {@code gamma} and the zero buffer {@code beta});</li>
 *   <li>input and output {@code [..., dim]}.</li>
 * </ul>
 *
 * <p>Composed by hand: {@code sd.nn.layerNorm} has no epsilon and {@code variance()}'s backward uses N−1 in M2.1, so the variance is {@code mean((x − μ)²)} with positive axes.
 */
public final class LayerNorm implements Norm {
    private final SDVariable weight;   // [dim]
    private final SDVariable bias;     // [dim] or null
    private final double eps;

    private LayerNorm(SDVariable weight, SDVariable bias, double eps) {
        this.weight = weight;
        this.bias = bias;
        this.eps = eps;
    }

    /** PyTorch {@code nn.LayerNorm(dim, eps)}: {@code weight} and {@code bias} in {@code s}. */
    public static LayerNorm load(Scope s, long dim, double eps) { return load(s, dim, eps, "weight", "bias"); }

    /** Gain and bias under other leaf names; {@code biasLeaf} null for a bias-free norm. */
    public static LayerNorm load(Scope s, long dim, double eps, String weightLeaf, String biasLeaf) {
        return new LayerNorm(s.param(weightLeaf, dim), biasLeaf == null ? null : s.param(biasLeaf, dim), eps);
    }

    /** Over parameters made elsewhere (from other scopes); {@code bias} may be null. */
    public static LayerNorm of(SDVariable weight, SDVariable bias, double eps) { return new LayerNorm(weight, bias, eps); }

    @Override public SDVariable forward(SDVariable x, int rank) {
        int axis = rank - 1;                                            // positive: see Norm
        SDVariable xc = x.sub(x.mean(true, axis));                       // [..., dim]
        SDVariable var = xc.mul(xc).mean(true, axis);                    // [..., 1], biased as PyTorch
        SDVariable y = xc.mul(x.getSameDiff().math.rsqrt(var.add(eps))).mul(weight);
        return bias == null ? y : y.add(bias);
    }

    public SDVariable weight() { return weight; }

    public SDVariable bias() { return bias; }

    public double eps() { return eps; }
}
