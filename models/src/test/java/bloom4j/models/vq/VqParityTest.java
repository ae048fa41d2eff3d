package bloom4j.models.vq;

import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same checks as {@code bloom4j parity} on every vq-ema and vq-nearest fixture. */
class VqParityTest {

    @ParameterizedTest
    @ValueSource(strings = {"vq-ema-d080-t0", "vq-ema-d099-t0", "vq-ema-d080-t2", "vq-ema-d099-t2", "vq-ema-cos-d080-t2"})
    void emaTrainingMatchesUpstream(String fixture) throws Exception {
        String out = TestFixtures.assertParity(fixture);
        assertTrue(out.contains("train2_embed_avg"), out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vq-nearest-euclidean", "vq-nearest-cosine"})
    void nearestLookupMatchesUpstream(String fixture) throws Exception {
        String out = TestFixtures.assertParity(fixture);
        assertTrue(out.contains("top2_scores"), out);
    }
}
