package bloom4j.infer.cli;

import bloom4j.tensor.cli.HelpCheck;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The inference command tree as {@code --help} shows it. */
class InferMainTest {
    @Test
    void everySubcommandSummaryIsAWholeSentence() {
        assertEquals(List.of(), HelpCheck.cutSummaries(new InferMain()), "first description lines shown cut in --help");
    }
}
