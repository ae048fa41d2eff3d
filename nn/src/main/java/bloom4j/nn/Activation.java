package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

import java.util.Locale;

/**
 * Element-wise activations of feed-forward layers, under their Hugging Face {@code hidden_act} names.
 * <ul>
 *   <li>{@link #SILU}: {@code x·σ(x)} (HF "silu", "swish");</li>
 *   <li>{@link #GELU}: the exact {@code 0.5·x·(1 + erf(x/√2))} (HF "gelu"; {@code sd.nn.gelu} is a sigmoid approximation, so it is
 *       composed from erf);</li>
 *   <li>{@link #GELU_TANH}: the tanh approximation {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))} (HF "gelu_new",
 *       "gelu_pytorch_tanh"), composed: M2.1's {@code preciseGelu} is not this formula;</li>
 *   <li>{@link #RELU};</li>
 *   <li>{@link #SWOOSH_L} {@code log(1 + e^(x−4)) − 0.08·x − 0.035} and {@link #SWOOSH_R} {@code log(1 + e^(x−1)) − 0.08·x −
 *       0.313261687}, Zipformer's (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/scaling.py} L1034-1206), with the
 *       softplus in the overflow-free form {@code max(0, z) + log1p(e^(−|z|))} upstream exports to ONNX ({@code logaddexp_onnx},
 *       L55-58).</li>
 * </ul>
 */
public enum Activation {
    SILU, GELU, GELU_TANH, RELU, SWOOSH_L, SWOOSH_R;

    public SDVariable apply(SDVariable x) {
        var sd = x.getSameDiff();
        return switch (this) {
            case SILU -> sd.nn.swish(x);
            case GELU -> x.mul(sd.math.erf(x.mul(1 / Math.sqrt(2))).add(1)).mul(0.5);
            case GELU_TANH -> x.mul(sd.math.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)).mul(0.5);
            case RELU -> sd.nn.relu(x, 0);
            case SWOOSH_L -> softplus(x.sub(4)).sub(x.mul(0.08)).sub(0.035);
            case SWOOSH_R -> softplus(x.sub(1)).sub(x.mul(0.08)).sub(0.313261687);
        };
    }

    /** {@code log(1 + e^z)} without overflow: {@code max(0, z) + log1p(e^(−|z|))}. */
    private static SDVariable softplus(SDVariable z) {
        var sd = z.getSameDiff();
        return sd.nn.relu(z, 0).add(sd.math.log1p(sd.math.exp(sd.math.abs(z).neg())));
    }

    /** From an HF config's {@code hidden_act}. */
    public static Activation fromHf(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_tanh" -> GELU_TANH;
            case "relu" -> RELU;
            default -> throw new IllegalArgumentException("unsupported activation '" + name + "': expected silu/swish, gelu, gelu_new or relu");
        };
    }
}
