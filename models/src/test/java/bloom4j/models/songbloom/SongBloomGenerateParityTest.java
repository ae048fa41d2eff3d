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

/** {@code bloom4j parity} on the copy of the songbloom-generate fixture: the whole generation loop with the recorded noise. */
class SongBloomGenerateParityTest {

    @Test
    void generateFixturePasses() throws Exception {
        assertTrue(ParityKinds.find("songbloom-generate").isPresent());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(TestFixtures.dir("songbloom-generate"), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.passed(), out);
        List<ParityReport.Line> lines = o.report().lines();
        List<String> compared = lines.stream().filter(ParityReport.Line::numeric).map(ParityReport.Line::name).toList();
        for (String name : List.of("cond_prompt_wav", "cond_lyrics", "step_classifier_out", "step_scaled_logits", "blocks_tokens_all",
                "blocks_latent_all", "blocks_seq_all", "dit_calls_x", "dit_calls_t", "dit_calls_h", "dit_calls_v", "token_seq",
                "latent_seq")) {
            assertTrue(compared.contains(name), name + " is compared: " + compared);
        }
        for (ParityReport.Line l : lines) if (l.numeric()) assertTrue(l.maxAbs() < 1e-4, l.toString());
        assertEquals(0.0, lines.stream().filter(l -> l.name().equals("blocks_tokens_all")).findFirst().orElseThrow().maxAbs());
        System.out.println(out);
    }
}
