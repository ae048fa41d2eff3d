package bloom4j.infer.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's plumbing at toy shapes (its figures are measured with {@code bloom4j bench ar}, never in tests). */
class ArBenchTest {

    @Test
    void runsAndEndsWithTheMachineReadableLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ArBench.Result r = ArBench.run(new ArBench.Options(1, 32, 4, 2, 64, 2, 8, 3, 1, 1), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String log = buf.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("prefill: 2 x 8 tokens") && log.contains("decode limit:"), log);
        assertTrue(r.decodeTokensPerSecond() > 0 && r.prefillTokensPerSecond() > 0 && r.copyGbPerS() > 0);
        assertTrue(ArBench.summary(r).matches("bench ar: prefill_tok_s=[0-9.]+ decode_tok_s=[0-9.]+ peak_rss_mb=-?[0-9]+"),
                ArBench.summary(r));
    }

    @Test
    void optionsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ArBench.Options(1, 30, 4, 2, 64, 2, 8, 3, 1, 1));
        assertTrue(e.getMessage().contains("--dim 30 is not a multiple of --heads 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArBench.Options(1, 32, 4, 3, 64, 2, 8, 3, 1, 1));
        assertTrue(e.getMessage().contains("--kv-heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArBench.Options(0, 32, 4, 2, 64, 2, 8, 3, 1, 1));
        assertTrue(e.getMessage().contains("--layers must be >= 1"), e.getMessage());
    }
}
