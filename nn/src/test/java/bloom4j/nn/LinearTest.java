package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class LinearTest {
    static final int IN = 5, OUT = 3;

    static Scope scope(SameDiff sd, boolean bias) {
        Map<String, INDArray> m = bias
                ? Map.of("fc.weight", Rand.normal(1, OUT, IN), "fc.bias", Rand.normal(2, OUT))
                : Map.of("fc.weight", Rand.normal(1, OUT, IN));
        return Scope.root(sd, ParamSource.of(m), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
    }

    @Test void rowsMatchLoops() {
        SameDiff sd = SameDiff.create();
        Linear fc = Linear.load(scope(sd, true).pp("fc"), IN, OUT, true);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, IN);
        SDVariable y = fc.forwardRows(x);
        INDArray xv = Rand.normal(3, 4, IN);
        double[] got = Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name()));
        double[] want = Reference.linear(Reference.of(xv), 4, IN, Reference.of(fc.weight().getArr()), Reference.of(fc.bias().getArr()), OUT);
        assertArrayEquals(want, got, 1e-12);
    }

    @Test void anyRankKeepsLeadingDims() {
        SameDiff sd = SameDiff.create();
        Linear fc = Linear.load(scope(sd, false).pp("fc"), IN, OUT, false);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, -1, IN);
        SDVariable yDeclared = fc.forward(x);                 // declared placeholder shape, dynamic dims
        SDVariable yIntermediate = fc.forward(x.mul(1.0));    // intermediate: shape unknown at build time
        SDVariable x4 = sd.placeHolder("x4", DataType.DOUBLE, 2, 1, 3, IN);
        SDVariable y4 = fc.forward(x4);                       // fully declared: static reshape
        INDArray xv = Rand.normal(4, 2, 3, IN);
        Map<String, INDArray> out = sd.output(Map.of("x", xv, "x4", xv.reshape(2, 1, 3, IN)), yDeclared.name(), yIntermediate.name(), y4.name());
        double[] want = Reference.linear(Reference.of(xv), 6, IN, Reference.of(fc.weight().getArr()), null, OUT);
        for (String n : new String[] {yDeclared.name(), yIntermediate.name()}) {
            assertArrayEquals(new long[] {2, 3, OUT}, out.get(n).shape());
            assertArrayEquals(want, Reference.of(out.get(n)), 1e-12);
        }
        assertArrayEquals(new long[] {2, 1, 3, OUT}, out.get(y4.name()).shape());
        assertArrayEquals(want, Reference.of(out.get(y4.name())), 1e-12);
    }

    @Test void gradientWithBiasRank3() {
        SameDiff sd = SameDiff.create();
        Linear fc = Linear.load(scope(sd, true).pp("fc"), IN, OUT, true);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, -1, IN);
        GradientCheck.of(sd, fc.forward(x)).feed(Map.of("x", Rand.normal(5, 2, 3, IN))).inputs("x").check();
    }

    @Test void shapeErrorNamesKey() {
        SameDiff sd = SameDiff.create();
        ParameterException e = assertThrows(ParameterException.class, () -> Linear.load(scope(sd, false).pp("fc"), OUT, IN, false));
        assertEquals("shape mismatch for 'fc.weight': expected [5, 3], got [3, 5] in in-memory map of 1 tensors", e.getMessage());
    }
}
