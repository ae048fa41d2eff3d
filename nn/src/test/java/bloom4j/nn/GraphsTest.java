package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class GraphsTest {

    /** Weights are stored as given (no per-thread copy), the graph computes with them, and freeing the session cache is harmless. */
    @Test
    void constantsAreStoredOnceAndTheGraphRunsAfterReleasingItsCache() {
        SameDiff sd = Graphs.create();
        INDArray w = Nd4j.createFromArray(new float[][] {{0, 1, 2}, {3, 4, 5}});
        SDVariable c = sd.constant("w", w);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
        SDVariable y = sd.mmul(x, c, false, true, false);
        assertSame(w, c.getArr());
        w.addi(1);                                                              // the graph sees the array itself, not a copy
        INDArray xv = Nd4j.ones(DataType.FLOAT, 1, 3);
        INDArray first = sd.output(Map.of("x", xv), y.name()).get(y.name());
        Graphs.releaseWorkingMemory(sd);
        INDArray again = sd.output(Map.of("x", xv), y.name()).get(y.name());
        assertEquals(Nd4j.createFromArray(new float[][] {{6, 15}}), first);
        assertEquals(first, again);
    }
}
