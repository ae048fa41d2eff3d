package bloom4j.models.songbloom.dit;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.ParityRunner;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The songbloom-dit fixture through the parity harness, plus the sampler schedule and config rules. */
class SongBloomDitTest {

    @Test void parityPasses() throws Exception {
        Path dir = TestFixtures.dir("songbloom-dit");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertTrue(o.passed(), out);
        assertEquals(13, o.report().lines().stream().filter(ParityReport.Line::numeric).count(), out);
    }

    @Test void scheduleIsTorchLinspace() {
        float[] t = new FlowSampler(36, 0.95, 1.0).schedule();
        assertEquals(37, t.length);
        assertEquals(1f, t[0]);
        assertEquals(0f, t[36]);
        for (int k = 0; k <= 36; k++) assertEquals(1.0 - k / 36.0, t[k], 1e-7);
        assertArrayEquals(new float[] {1f, 0.5f, 0f}, bloom4j.tensor.Floats.linspace(1f, 0f, 3));
        assertThrows(IllegalArgumentException.class, () -> new FlowSampler(0, 0.95, 1));
    }

    @Test void renoisesOnceAtTheTemperatureCrossing() {
        // v = 0 everywhere: x stays 0 until the crossing step, where x = (1 − tp)·0 + tp·noise; then Euler keeps it.
        FlowSampler s = new FlowSampler(36, 0.95, 1.0);
        org.nd4j.linalg.api.ndarray.INDArray noise = org.nd4j.linalg.factory.Nd4j.ones(1, 2, 3);
        int[] seenNonZero = {-1};
        org.nd4j.linalg.api.ndarray.INDArray z = s.sample((x, tc) -> org.nd4j.linalg.factory.Nd4j.zerosLike(x), noise, (k, x, tc, v) -> {
            if (seenNonZero[0] < 0 && x.sumNumber().doubleValue() != 0) seenNonZero[0] = k;
        });
        assertEquals(2, seenNonZero[0], "k = 0 and 1 see zeros; the re-noise happens at k = 1 (0.972 > 0.95 >= 0.944)");
        assertEquals(1 - 2 / 36.0, z.getDouble(0), 1e-6);
    }

    @Test void configRules() {
        DitConfig r = DitConfig.released();
        assertEquals(64, r.headDim());
        assertEquals(32, r.rotaryDim());
        assertEquals(50, r.sequenceLength());
        assertEquals(6144, r.ffDim());
        assertEquals(32, new DitConfig(80, 2, 2, 8, 4, 2, 32, 20000, 1e-5).rotaryDim());   // head 40: max(20, 32)
        assertThrows(IllegalArgumentException.class, () -> new DitConfig(64, 4, 1, 8, 4, 2, 32, 20000, 1e-5));   // head 16 < 32
    }
}
