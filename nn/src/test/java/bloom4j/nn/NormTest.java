package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class NormTest {
    static final int D = 4;

    static Scope scope(SameDiff sd) {
        Map<String, INDArray> m = Map.of("n.weight", Rand.normal(1, D).addi(1), "n.bias", Rand.normal(2, D),
                "dit.gamma", Rand.normal(3, D).addi(1), "dit.beta", Nd4j.zeros(DataType.DOUBLE, D));
        return Scope.root(sd, ParamSource.of(m), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
    }

    /** Rows [2, 3, D] with one nearly constant, tiny row, where eps decides the result. */
    static INDArray input() {
        INDArray x = Rand.normal(4, 2, 3, D);
        x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.point(2))
                .assign(Nd4j.createFromArray(1e-4, 1.01e-4, 0.99e-4, 1e-4));
        return x;
    }

    @Test void rmsNormMatchesLoopsAtRank2And3() {
        SameDiff sd = SameDiff.create();
        RmsNorm n = RmsNorm.load(scope(sd).pp("n"), D, 1e-6);
        SDVariable x3 = sd.placeHolder("x", DataType.DOUBLE, -1, -1, D);
        SDVariable y3 = n.forward(x3, 3);
        SDVariable y2 = n.forwardRows(x3.reshape(-1, D));
        INDArray xv = input();
        Map<String, INDArray> out = sd.output(Map.of("x", xv), y3.name(), y2.name());
        double[] want = Reference.rmsNorm(Reference.of(xv), D, Reference.of(n.weight().getArr()), 1e-6);
        assertArrayEquals(want, Reference.of(out.get(y3.name())), 1e-12);
        assertArrayEquals(want, Reference.of(out.get(y2.name())), 1e-12);
        // eps matters on the tiny row: rms 1e-4 vs sqrt(1e-8 + 1e-6) ≈ 1.005e-3
        assertEquals(want[5 * D] , out.get(y3.name()).getDouble(1, 2, 0), 1e-12);
        assertTrue(Math.abs(out.get(y3.name()).getDouble(1, 2, 0)) < 0.2 * Math.abs(n.weight().getArr().getDouble(0)));
    }

    @Test void layerNormMatchesLoops() {
        SameDiff sd = SameDiff.create();
        Scope s = scope(sd);
        LayerNorm withBias = LayerNorm.load(s.pp("n"), D, 1e-5);
        LayerNorm dit = LayerNorm.load(s.pp("dit"), D, 1e-5, "gamma", "beta");
        LayerNorm noBias = LayerNorm.of(s.pp("n").param("weight", D), null, 1e-5);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, -1, D);
        SDVariable a = withBias.forward(x, 3), b = dit.forwardRows(x.reshape(-1, D)), c = noBias.forward(x, 3);
        INDArray xv = input();
        Map<String, INDArray> out = sd.output(Map.of("x", xv), a.name(), b.name(), c.name());
        double[] w = Reference.of(withBias.weight().getArr());
        assertArrayEquals(Reference.layerNorm(Reference.of(xv), D, w, Reference.of(withBias.bias().getArr()), 1e-5),
                Reference.of(out.get(a.name())), 1e-12);
        assertArrayEquals(Reference.layerNorm(Reference.of(xv), D, Reference.of(dit.weight().getArr()), null, 1e-5),
                Reference.of(out.get(b.name())), 1e-12);
        assertArrayEquals(Reference.layerNorm(Reference.of(xv), D, w, null, 1e-5), Reference.of(out.get(c.name())), 1e-12);
        // With eps = 1e-5 the nearly constant row is squashed towards 0 instead of being blown up to unit variance.
        assertTrue(Math.abs(out.get(c.name()).getDouble(1, 2, 1)) < 1e-2);
    }

    @Test void rmsNormGradient() {
        SameDiff sd = SameDiff.create();
        RmsNorm n = RmsNorm.load(scope(sd).pp("n"), D, 1e-6);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, -1, D);
        GradientCheck.of(sd, n.forward(x, 3)).feed(Map.of("x", Rand.normal(5, 2, 3, D))).inputs("x").check();
    }

    @Test void layerNormGradient() {
        SameDiff sd = SameDiff.create();
        LayerNorm n = LayerNorm.load(scope(sd).pp("n"), D, 1e-5);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, D);
        GradientCheck.of(sd, n.forwardRows(x)).feed(Map.of("x", Rand.normal(6, 5, D))).inputs("x").check();
    }
}
