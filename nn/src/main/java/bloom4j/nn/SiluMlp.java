package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Two linears with a SiLU between them, PyTorch {@code nn.Sequential(nn.Linear(in, hidden), nn.SiLU(), nn.Linear(hidden, out))}:
 * {@code y = second(silu(first(x)))}. The sequential indices are the checkpoint keys ({@code 0} and {@code 2}, or {@code 1} and
 * {@code 3} behind a leading {@code Rearrange}).
 *
 * <p>SongBloom has three: {@code skeleton_classifier} (0 without bias, 2 with), {@code block_conv} (1 and 3, both with bias) and the
 * DiT's {@code to_timestep_embed} (0 without bias, 2 with). Rows {@code [N, in]} in, {@code [N, out]} out.
 */
public final class SiluMlp implements FeedForward {
    private final Linear first;
    private final Linear second;

    private SiluMlp(Linear first, Linear second) {
        this.first = first;
        this.second = second;
    }

    /** Loads {@code <firstName>.weight [hidden, in]} and {@code <secondName>.weight [out, hidden]} (and biases if asked) from {@code s}. */
    public static SiluMlp load(Scope s, long in, long hidden, long out, String firstName, boolean firstBias, String secondName,
                               boolean secondBias) {
        return new SiluMlp(Linear.load(s.pp(firstName), in, hidden, firstBias), Linear.load(s.pp(secondName), hidden, out, secondBias));
    }

    public static SiluMlp of(Linear first, Linear second) { return new SiluMlp(first, second); }

    @Override public SDVariable forwardRows(SDVariable x) {
        return second.forwardRows(x.getSameDiff().nn.swish(first.forwardRows(x)));   // swish = x·σ(x) = SiLU
    }

    public Linear first() { return first; }

    public Linear second() { return second; }
}
