package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The plain two-layer feed-forward {@code down(act(up(x)))}, the transformer FFN before gating.
 *
 * <p>References: HF {@code Wav2Vec2ConformerFeedForward} (keys {@code intermediate_dense}, {@code output_dense}, {@code hidden_act}
 * "swish", biases; dropouts are identity in eval), and the GELU MLPs of ViT/BERT-style blocks.
 * <ul>
 *   <li>up: weight {@code [hidden, dim]}, down: weight {@code [dim, hidden]}, biases if asked;</li>
 *   <li>input and output rows {@code [N, dim]}.</li>
 * </ul>
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
        return new Mlp(Linear.load(s.pp(upName), dim, hidden, bias), Linear.load(s.pp(downName), hidden, dim, bias), act);
    }

    /** Over linears made elsewhere (LoRA-wrapped, for instance). */
    public static Mlp of(Linear up, Linear down, Activation act) { return new Mlp(up, down, act); }

    @Override public SDVariable forwardRows(SDVariable x) {
        return down.forwardRows(act.apply(up.forwardRows(x)));   // [N, hidden] -> [N, dim]
    }

    public Linear up() { return up; }

    public Linear down() { return down; }

    public Activation activation() { return act; }
}
