package bloom4j.models.zipvoice;

import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The zipvoice-fbank fixture through the parity harness, and the frame count and silence rules. */
class VocosFbankTest {

    @Test void parityPasses() throws Exception {
        assertEquals(7, TestFixtures.assertParityReport("zipvoice-fbank").lines().stream().filter(ParityReport.Line::numeric).count());
    }

    @Test void framesAndSilence() {
        assertEquals(94, VocosFbank.frames(24000));
        assertEquals(23, VocosFbank.frames(6000));      // 6000 % 256 = 112 < 128: one STFT frame fewer than 1 + 6000 // 256
        float[] f = new VocosFbank().extract(new float[4800], 24000);
        assertEquals(19 * 100, f.length);
        for (float v : f) assertEquals((float) Math.log(1e-7), v, 0f);
        assertThrows(IllegalArgumentException.class, () -> new VocosFbank().extract(new float[4800], 22050));
    }
}
