package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Mlp} as a Sequential head with different widths and per-layer biases (SongBloom's skeleton_classifier). */
class MlpHeadTest {
    static final int IN = 5, HID = 6, OUT = 3;

    /** SongBloom's skeleton_classifier layout: 0 without bias, 2 with. */
    static Map<String, INDArray> weights() {
        return Map.of("head.0.weight", Rand.normal(1, HID, IN), "head.2.weight", Rand.normal(2, OUT, HID), "head.2.bias", Rand.normal(3, OUT));
    }

    @Test void matchesLoops() {
        SameDiff sd = SameDiff.create();
        Map<String, INDArray> w = weights();
        Scope s = Scope.root(sd, ParamSource.of(w), LoadOptions.inference().dtype(DataType.DOUBLE));
        Mlp mlp = Mlp.load(s.pp("head"), IN, HID, OUT, Activation.SILU, "0", false, "2", true);
        assertEquals(3, s.params().consumed().size());
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, IN);
        SDVariable y = mlp.forwardRows(x);
        INDArray xv = Rand.normal(4, 4, IN);
        double[] h = Reference.linear(Reference.of(xv), 4, IN, Reference.of(w.get("head.0.weight")), null, HID);
        for (int i = 0; i < h.length; i++) h[i] = Reference.silu(h[i]);
        double[] want = Reference.linear(h, 4, HID, Reference.of(w.get("head.2.weight")), Reference.of(w.get("head.2.bias")), OUT);
        assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-12);
    }

    @Test void gradient() {
        SameDiff sd = SameDiff.create();
        Scope s = Scope.root(sd, ParamSource.of(weights()), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
        Mlp mlp = Mlp.load(s.pp("head"), IN, HID, OUT, Activation.SILU, "0", false, "2", true);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, IN);
        GradientCheck.of(sd, mlp.forwardRows(x)).feed(Map.of("x", Rand.normal(5, 4, IN))).inputs("x").check();
    }
}
