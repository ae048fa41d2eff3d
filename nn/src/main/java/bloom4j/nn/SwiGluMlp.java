package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The gated SiLU feed-forward: {@code down(silu(gate(x)) · up(x))}.
 *
 * <p>References: HF 4.44.1 {@code LlamaMLP.forward} ({@code down_proj(act_fn(gate_proj(x)) * up_proj(x))}, keys {@code gate_proj},
 * {@code up_proj}, {@code down_proj}); SongBloom's DiT feed-forward {@code W_out(up(x) · silu(gate(x)))}
 * ({@code SongBloom/models/transformer.py}, keys {@code ff.0.gate_proj}, {@code ff.0.up_proj}, {@code ff.2}) is the same function under
 * other names.
 * <ul>
 *   <li>gate, up: weight {@code [hidden, dim]}; down: weight {@code [dim, hidden]}; biases {@code [hidden]}/{@code [dim]} if asked;</li>
 *   <li>input and output rows {@code [N, dim]}.</li>
 * </ul>
 */
public final class SwiGluMlp implements FeedForward {
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    private SwiGluMlp(Linear gate, Linear up, Linear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /** HF Llama naming, no biases ({@code mlp_bias = False}). */
    public static SwiGluMlp llama(Scope s, long dim, long hidden) {
        return load(s, dim, hidden, false, "gate_proj", "up_proj", "down_proj");
    }

    /** The three projections under the given names relative to {@code s}. */
    public static SwiGluMlp load(Scope s, long dim, long hidden, boolean bias, String gateName, String upName, String downName) {
        return new SwiGluMlp(Linear.load(s.pp(gateName), dim, hidden, bias), Linear.load(s.pp(upName), dim, hidden, bias),
                Linear.load(s.pp(downName), hidden, dim, bias));
    }

    /** Over linears made elsewhere (LoRA-wrapped, for instance). */
    public static SwiGluMlp of(Linear gate, Linear up, Linear down) { return new SwiGluMlp(gate, up, down); }

    @Override public SDVariable forwardRows(SDVariable x) {
        SDVariable a = x.getSameDiff().nn.swish(gate.forwardRows(x));   // silu: [N, hidden]
        return down.forwardRows(a.mul(up.forwardRows(x)));              // [N, dim]
    }

    public Linear gate() { return gate; }

    public Linear up() { return up; }

    public Linear down() { return down; }
}
