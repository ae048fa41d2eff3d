package bloom4j.models.muq;

import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same checks as {@code bloom4j parity} on the muq-frontend and muq-encoder fixtures. */
class MuqParityTest {

    @Test void frontEndMatchesTorchaudio() throws Exception {
        String out = TestFixtures.assertParity("muq-frontend");
        assertTrue(out.contains("features"), out);
    }

    @Test void encoderMatchesMuq() throws Exception {
        String out = TestFixtures.assertParity("muq-encoder");
        assertTrue(out.contains("hidden_state_2") && out.contains("last_hidden_state (model.safetensors)"), out);
    }
}
