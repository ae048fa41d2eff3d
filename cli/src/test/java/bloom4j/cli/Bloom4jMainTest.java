package bloom4j.cli;

import bloom4j.tensor.cli.Captured;
import bloom4j.tensor.cli.HelpCheck;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's command tree: every module's commands, once each, each with a whole-sentence summary. */
class Bloom4jMainTest {
    @Test
    void theTreeHoldsEveryModulesCommands() {
        Set<String> names = Bloom4jMain.tree().getSubcommands().keySet();
        for (String c : List.of("quickstart", "generate", "parity", "bench", "inspect", "convert", "train-vq", "extract-sketch",
                "bench-train")) {
            assertTrue(names.contains(c), c + " in " + names);
        }
    }

    @Test
    void helpListsTheCommandsAndSummariesAreSentences() {
        Captured r = Captured.run(() -> Bloom4jMain.run("--help"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("generate") && r.output().contains("BLOOM4J_THREADS"), r.output());
        assertEquals(List.of(), HelpCheck.cutSummaries(Bloom4jMain.tree()));
        Captured none = Captured.run(() -> Bloom4jMain.run());
        assertEquals(0, none.exitCode());
        assertTrue(none.output().contains("Usage: bloom4j"), none.output());
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        Captured r = Captured.run(() -> Bloom4jMain.run("genrate"));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("genrate"), r.output());
    }
}
