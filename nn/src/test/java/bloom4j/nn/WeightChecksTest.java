package bloom4j.nn;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Weights that would silently corrupt a model are refused at load, naming the tensor. */
class WeightChecksTest {

    private static Path checkpoint(Path dir, INDArray weight) throws Exception {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("dec.conv.weight", weight);
        m.put("dec.conv.bias", Nd4j.zeros(DataType.FLOAT, 2));
        Path f = dir.resolve("model.safetensors");
        SafeTensorsWriter.write(f, SafeTensorsWriter.arrays(m), null);
        return f;
    }

    private static ParameterException loadError(Path file) throws Exception {
        try (TensorSource src = Checkpoints.open(file)) {
            Scope s = Scope.root(SameDiff.create(), ParamSource.of(src), LoadOptions.inference()).pp("dec.conv");
            return assertThrows(ParameterException.class, () -> s.param("weight", 2, 3));
        }
    }

    @Test void nanWeightIsNamed(@TempDir Path dir) throws Exception {
        INDArray w = Nd4j.rand(DataType.FLOAT, 2, 3);
        w.putScalar(1, 2, Float.NaN);
        ParameterException e = loadError(checkpoint(dir, w));
        assertTrue(e.getMessage().contains("'dec.conv.weight'") && e.getMessage().contains("1 NaN")
                && e.getMessage().contains("flat index 5"), e.getMessage());
    }

    @Test void infiniteWeightIsNamed(@TempDir Path dir) throws Exception {
        INDArray w = Nd4j.rand(DataType.FLOAT, 2, 3);
        w.putScalar(0, 0, Float.NEGATIVE_INFINITY);
        ParameterException e = loadError(checkpoint(dir, w));
        assertTrue(e.getMessage().contains("1 infinite"), e.getMessage());
    }

    @Test void hugeFiniteWeightsLoad(@TempDir Path dir) throws Exception {
        // The sum overflows to infinity, yet every element is finite: the scan must not refuse it.
        INDArray w = Nd4j.valueArrayOf(new long[] {2, 3}, 3.0e38f, DataType.FLOAT);
        try (TensorSource src = Checkpoints.open(checkpoint(dir, w))) {
            Scope s = Scope.root(SameDiff.create(), ParamSource.of(src), LoadOptions.inference()).pp("dec.conv");
            assertEquals(3.0e38, s.param("weight", 2, 3).getArr().getDouble(1, 2), 1e32);
        }
    }

    @Test void integerTensorIsNotCastToAWeight(@TempDir Path dir) throws Exception {
        ParameterException e = loadError(checkpoint(dir, Nd4j.ones(DataType.LONG, 2, 3)));
        assertTrue(e.getMessage().contains("'dec.conv.weight'") && e.getMessage().contains("I64")
                && e.getMessage().contains("expected a floating-point weight"), e.getMessage());
    }

    @Test void booleanTensorInAMapIsRefusedToo() {
        Map<String, INDArray> m = Map.of("w", Nd4j.create(new boolean[] {true, false}, new long[] {2}, DataType.BOOL));
        Scope s = Scope.root(SameDiff.create(), ParamSource.of(m), LoadOptions.inference());
        ParameterException e = assertThrows(ParameterException.class, () -> s.param("w", 2));
        assertTrue(e.getMessage().contains("BOOL"), e.getMessage());
    }
}
