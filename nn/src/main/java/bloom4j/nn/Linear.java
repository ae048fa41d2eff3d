package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A fully connected layer, PyTorch {@code nn.Linear}: {@code y = x·Wᵀ + b}.
 *
 * <ul>
 *   <li>weight {@code [out, in]} (key {@code weight}), kept in PyTorch's layout and multiplied with mmul's transpose flag, so checkpoint
 *       tensors need no copy and LoRA/DoRA see the same layout as PEFT;</li>
 *   <li>bias {@code [out]} (key {@code bias}), optional;</li>
 *   <li>input {@code [..., in]}, output {@code [..., out]}.</li>
 * </ul>
 *
 * <p>SameDiff's mmul does not broadcast ranks, so {@link #forward} flattens to 2-D and back; {@link #forwardRows} is the cheap path for
 * inputs already {@code [N, in]}.
 */
public final class Linear {
    private final SDVariable weight;   // [out, in]
    private final SDVariable bias;     // [out] or null
    private final long in;
    private final long out;
    private final LinearAdapters.Adapter adapter;   // null unless a LoRA/DoRA adapter targets this layer

    private Linear(SDVariable weight, SDVariable bias, long in, long out, LinearAdapters.Adapter adapter) {
        this.weight = weight;
        this.bias = bias;
        this.in = in;
        this.out = out;
        this.adapter = adapter;
    }

    /**
     * Loads {@code weight [out, in]} and, if {@code bias}, {@code bias [out]} from {@code s}. If the scope's
     * {@link LoadOptions#adapters()} target this module, the layer's forward becomes the adapter's (base output included).
     */
    public static Linear load(Scope s, long in, long out, boolean bias) {
        Linear base = new Linear(s.param("weight", out, in), bias ? s.param("bias", out) : null, in, out, null);
        LinearAdapters adapters = s.params().options().adapters();
        if (!adapters.targets(s.path())) return base;
        return new Linear(base.weight, base.bias, in, out, adapters.wrap(s, base));
    }

    /** A layer over parameters made elsewhere (a merged DoRA weight, a tied embedding); {@code bias} may be null. Never adapted. */
    public static Linear of(SDVariable weight, SDVariable bias, long in, long out) {
        return new Linear(weight, bias, in, out, null);
    }

    /** {@code x [N, in] → [N, out]}: one mmul, plus one add with a bias; or the adapter's forward if this layer has one. */
    public SDVariable forwardRows(SDVariable x) {
        return adapter != null ? adapter.forwardRows(x) : baseForwardRows(x);
    }

    /** The base layer alone, {@code x·Wᵀ + b}, ignoring any adapter. */
    public SDVariable baseForwardRows(SDVariable x) {
        SDVariable y = x.getSameDiff().mmul(x, weight, false, true, false);   // x·Wᵀ: [N, in]·[out, in]ᵀ
        return bias == null ? y : y.add(bias);
    }

    /** Whether an adapter wraps this layer. */
    public boolean adapted() { return adapter != null; }

    /**
     * {@code x [..., in] → [..., out]} for any rank ≥ 2. Unless {@code x}'s shape is declared (placeholders), the leading dimensions are
     * read at run time, which costs four extra ops: prefer {@link #forwardRows} inside blocks.
     */
    public SDVariable forward(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        long[] known = x.getShape();
        if (known != null && known.length == 2) return forwardRows(x);
        SDVariable y = forwardRows(x.reshape(-1, in));                                      // [N, out]
        if (known != null && allPositive(known, known.length - 1)) {
            long[] shape = known.clone();
            shape[shape.length - 1] = out;
            return y.reshape(shape);
        }
        SDVariable lead = sd.stridedSlice(sd.shape(x), new long[] {0}, new long[] {-1}, new long[] {1});   // shape(x)[:-1]
        SDVariable shape = sd.concat(0, lead.castTo(org.nd4j.linalg.api.buffer.DataType.INT64),
                sd.constant(Nd4j.createFromArray(out)));
        return sd.reshape(y, shape);
    }

    private static boolean allPositive(long[] s, int n) {
        for (int i = 0; i < n; i++) if (s[i] <= 0) return false;
        return true;
    }

    /** {@code [out, in]}. */
    public SDVariable weight() { return weight; }

    /** {@code [out]}, or null. */
    public SDVariable bias() { return bias; }

    public long in() { return in; }

    public long out() { return out; }
}
