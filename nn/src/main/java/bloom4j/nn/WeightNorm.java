package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * PyTorch {@code torch.nn.utils.weight_norm(module, dim=0)} (descript-audio-codec's {@code WNConv1d}/{@code WNConvTranspose1d}):
 * the weight is stored as a direction {@code weight_v} and a magnitude {@code weight_g}, and
 * <pre>
 *   w = g · v / ‖v‖      ‖v‖ over every dim except 0, per index of dim 0;  g has shape [d0, 1, ..., 1]
 * </pre>
 * For {@code nn.ConvTranspose1d} (weight {@code [C_in, C_out, k]}) dim 0 is C_in, for {@code nn.Conv1d} it is C_out.
 *
 * <p>Inference folds the pair into one weight at load time ({@link #fold}); training keeps g and v as variables and composes
 * the same function in the graph ({@link #apply}, positive reduction axes as M2.1 needs). Layers load through
 * {@code frozen}/{@code trainable}, which also accept a plain {@code weight}.
 */
public final class WeightNorm {
    private WeightNorm() {}

    /** {@code g · v / ‖v‖} computed eagerly, in the arrays' type. */
    public static INDArray fold(INDArray g, INDArray v) {
        int[] axes = tailAxes(v.rank());
        INDArray norm = Transforms.sqrt(v.mul(v).sum(true, axes), false);        // [d0, 1, ..., 1]
        return v.mul(g.reshape(norm.shape()).div(norm));
    }

    /** {@code g · v / ‖v‖} as graph ops ({@code v} of the given rank). */
    public static SDVariable apply(SDVariable g, SDVariable v, int rank) {
        SDVariable norm = v.getSameDiff().math.sqrt(v.mul(v).sum(true, tailAxes(rank)));
        return v.mul(g.div(norm));
    }

    private static int[] tailAxes(int rank) {
        int[] axes = new int[rank - 1];
        for (int i = 1; i < rank; i++) axes[i - 1] = i;
        return axes;
    }

    /**
     * The weight as an array when nothing of it is trainable ({@code weight}, or {@code weight_g}/{@code weight_v} folded), so a
     * layer can store it in whatever layout its kernel wants; null when it must stay a graph variable.
     */
    static INDArray frozen(Scope s, long... shape) {
        if (!(s.has("weight_g") && s.has("weight_v"))) return s.trainable("weight") ? null : s.array("weight", shape);
        if (s.trainable("weight_g") || s.trainable("weight_v")) return null;
        return fold(s.array("weight_g", gShape(shape)), s.array("weight_v", shape));
    }

    /** The weight as a trainable graph function ({@code weight}, or {@code g · v / ‖v‖}). */
    static SDVariable trainable(Scope s, long... shape) {
        if (!(s.has("weight_g") && s.has("weight_v"))) return s.param("weight", shape);
        return apply(s.param("weight_g", gShape(shape)), s.param("weight_v", shape), shape.length);
    }

    private static long[] gShape(long[] shape) {
        long[] g = new long[shape.length];
        java.util.Arrays.fill(g, 1);
        g[0] = shape[0];
        return g;
    }

}
