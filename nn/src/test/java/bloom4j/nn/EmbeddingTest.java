package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class EmbeddingTest {
    static final int V = 7, D = 3;

    @Test void frozenAndTrainablePathsLookUpTheSameRows() {
        INDArray table = Rand.normal(1, V, D);
        INDArray ids = Nd4j.createFromArray(new int[][] {{3, 0, 6}, {3, 1, 2}});
        for (boolean trainable : new boolean[] {false, true}) {
            SameDiff sd = SameDiff.create();
            Scope s = Scope.root(sd, ParamSource.of(Map.of("emb.weight", table)),
                    LoadOptions.inference().dtype(DataType.DOUBLE).trainable(k -> trainable));
            Embedding e = Embedding.load(s.pp("emb"), V, D);
            SDVariable y = e.forwardRows(sd.placeHolder("ids", DataType.INT32, -1, -1));
            INDArray out = sd.output(Map.of("ids", ids), y.name()).get(y.name());
            assertArrayEquals(new long[] {6, D}, out.shape());
            int[] flat = ids.data().asInt();
            for (int i = 0; i < flat.length; i++) assertEquals(table.getRow(flat[i]), out.getRow(i), "row " + i + " trainable=" + trainable);
        }
    }

    @Test void trainableGradient() {
        SameDiff sd = SameDiff.create();
        Scope s = Scope.root(sd, ParamSource.of(Map.of("emb.weight", Rand.normal(2, V, D))),
                LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable());
        Embedding e = Embedding.load(s.pp("emb"), V, D);
        SDVariable y = e.forwardRows(sd.placeHolder("ids", DataType.INT64, -1));
        // Duplicate ids must accumulate: row 4 appears twice.
        GradientCheck.of(sd, y).feed(Map.of("ids", Nd4j.createFromArray(4L, 0L, 4L, 6L))).maxPerArray(V * D).check();
    }
}
