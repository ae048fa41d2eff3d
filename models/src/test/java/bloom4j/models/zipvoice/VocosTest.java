package bloom4j.models.zipvoice;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vocos-decode fixture through the parity harness, and the decode's shape rule. */
class VocosTest {

    @Test void parityPasses() throws Exception {
        assertEquals(19, TestFixtures.assertParityReport("vocos-decode").lines().stream().filter(ParityReport.Line::numeric).count());
    }

    @Test void decodesHopTimesFramesMinusOne() throws Exception {
        Vocos v;
        try (TensorSource w = Checkpoints.open(TestFixtures.file("vocos-decode", "model.pt"))) {
            v = Vocos.load(w);
        }
        assertEquals(32, v.dim());
        assertEquals(2, v.layers());
        assertArrayEquals(new long[] {1, 256 * 6}, v.decode(Nd4j.randn(DataType.FLOAT, 1, 100, 7)).shape());
    }
}
