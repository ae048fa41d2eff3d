package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.ParityKinds;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.ParityRunner;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same checks as {@code bloom4j parity <fixture>}, on copies of the shared fixtures in the test resources. */
class SongBloomParityTest {

    private static ParityRunner.Outcome run(String name) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(TestFixtures.dir(name), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.passed(), out);
        String[] lines = out.split("\n");
        assertEquals("parity " + name + ": PASS", lines[lines.length - 1].trim());
        return o;
    }

    @Test
    void kindsAreRegistered() {
        assertTrue(ParityKinds.find("songbloom-ar").isPresent());
        assertTrue(ParityKinds.find("songbloom-lyrics").isPresent());
    }

    /** Every output of the fixture is compared, within its tolerance (atol = rtol = 1e-4; the errors are about 2e-6). */
    @Test
    void arFixturePasses() throws Exception {
        List<ParityReport.Line> lines = run("songbloom-ar").report().lines();
        List<String> compared = lines.stream().filter(ParityReport.Line::numeric).map(ParityReport.Line::name).toList();
        assertEquals(List.of("skeleton_emb_out", "block_conv_out", "seq_embeds", "inputs_embeds", "hidden_after_layer0",
                "last_hidden_state", "lm_out", "logits", "stream_prefill_out", "stream_step_out", "stream_step_logits",
                "stream_step_out (decode kernel)", "stream_step_logits (decode kernel)"), compared);
        for (ParityReport.Line l : lines) if (l.numeric()) assertTrue(l.maxAbs() < 1e-5, l.toString());
        assertTrue(lines.stream().anyMatch(l -> l.name().contains("refused") && l.pass()));
    }

    @Test
    void lyricsFixturePasses() throws Exception {
        List<ParityReport.Line> lines = run("songbloom-lyrics").report().lines();
        assertEquals(4 * 3 + 2, lines.stream().filter(ParityReport.Line::numeric).count());
        for (ParityReport.Line l : lines) if (l.numeric()) assertEquals(0.0, l.maxAbs(), l.toString());
    }
}
