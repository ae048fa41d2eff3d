package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SwiGluMlpTest {
    static final int D = 4, F = 6;

    static Map<String, INDArray> weights(String gate, String up, String down) {
        return Map.of(gate + ".weight", Rand.normal(1, F, D), up + ".weight", Rand.normal(2, F, D), down + ".weight", Rand.normal(3, D, F));
    }

    @Test void llamaMatchesLoops() {
        SameDiff sd = SameDiff.create();
        Map<String, INDArray> w = weights("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");
        SwiGluMlp mlp = SwiGluMlp.llama(Scope.root(sd, ParamSource.of(w), LoadOptions.inference().dtype(DataType.DOUBLE)).pp("mlp"), D, F);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, D);
        SDVariable y = mlp.forwardRows(x);
        INDArray xv = Rand.normal(4, 5, D);
        double[] want = Reference.swiglu(Reference.of(xv), 5, D, F, Reference.of(w.get("mlp.gate_proj.weight")),
                Reference.of(w.get("mlp.up_proj.weight")), Reference.of(w.get("mlp.down_proj.weight")));
        assertArrayEquals(want, Reference.of(sd.output(Map.of("x", xv), y.name()).get(y.name())), 1e-12);
    }

    @Test void ditNamesAndGradient() {
        SameDiff sd = SameDiff.create();
        Map<String, INDArray> w = weights("ff.ff.0.gate_proj", "ff.ff.0.up_proj", "ff.ff.2");
        Scope s = Scope.root(sd, ParamSource.of(w), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
        SwiGluMlp mlp = SwiGluMlp.load(s.pp("ff.ff"), D, F, false, "0.gate_proj", "0.up_proj", "2");
        assertEquals(3, s.params().consumed().size());
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, D);
        GradientCheck.of(sd, mlp.forwardRows(x)).feed(Map.of("x", Rand.normal(5, 5, D))).inputs("x").check();
    }
}
