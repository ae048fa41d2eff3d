package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The plain two-layer feed-forward {@code down(act(up(x)))}: the transformer FFN before gating, and any PyTorch
 * {@code nn.Sequential(Linear, act, Linear)} head.
 *
 * <p>References: HF {@code Wav2Vec2ConformerFeedForward} (keys {@code intermediate_dense}, {@code output_dense}, {@code hidden_act}
 * "swish", biases; dropouts are identity in eval), and the GELU MLPs of ViT/BERT-style blocks.
 * <ul>
 *   <li>up: weight {@code [hidden, dim]}, down: weight {@code [dim, hidden]}, biases if asked;</li>
 *   <li>input and output rows {@code [N, dim]}.</li>
 * </ul>
 * SongBloom's heads are Sequentials whose indices are the keys and whose widths and biases differ per layer:
 * {@code skeleton_classifier} (0 without bias, 2 with; out = the sketch classes), {@code block_conv} (1 and 3 behind a
 * {@code Rearrange}, both with bias; in = 16·latent) and the DiT's {@code to_timestep_embed}.
 */
public final class Mlp implements FeedForward {
    private final Linear up;
    private final Linear down;
    private final Activation act;

    private Mlp(Linear up, Linear down, Activation act) {
        this.up = up;
        this.down = down;
        this.act = act;
    }

    /** The two projections under the given names relative to {@code s}. */
    public static Mlp load(Scope s, long dim, long hidden, boolean bias, Activation act, String upName, String downName) {
        return load(s, dim, hidden, dim, act, upName, bias, downName, bias);
    }

    /** {@code <upName>.weight [hidden, in]} and {@code <downName>.weight [out, hidden]}, each with its own bias flag. */
    public static Mlp load(Scope s, long in, long hidden, long out, Activation act, String upName, boolean upBias, String downName,
                           boolean downBias) {
        return new Mlp(Linear.load(s.pp(upName), in, hidden, upBias), Linear.load(s.pp(downName), hidden, out, downBias), act);
    }

    /** Over linears made elsewhere (LoRA-wrapped, for instance). */
    public static Mlp of(Linear up, Linear down, Activation act) { return new Mlp(up, down, act); }

    @Override public SDVariable forwardRows(SDVariable x) {
        return down.forwardRows(act.apply(up.forwardRows(x)));   // [N, hidden] -> [N, out]
    }

    public Linear up() { return up; }

    public Linear down() { return down; }

    public Activation activation() { return act; }
}
