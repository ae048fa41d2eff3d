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
                "bench-train", "cache", "train", "prepare", "split", "g2p")) {
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

    /** The whole quickstart, fine-tuning stages included, as a user runs it; and the fine-tuning command it prints as next step. */
    @Test
    void quickstartRunsAllStages(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path out = tmp.resolve("qs");
        Captured r = Captured.run(() -> Bloom4jMain.run("quickstart", "--out", out.toString()));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("== 9/10 generate with the fine-tuned run") && r.output().contains("quickstart: OK"), r.output());
        assertTrue(r.output().contains("== 10/10 speak a Japanese line") && r.output().contains("tokens (ja): s a k u r a g a"), r.output());
        assertTrue(java.nio.file.Files.size(out.resolve("speech.wav")) > 44 + 2 * 24000, r.output());
        assertTrue(java.nio.file.Files.size(out.resolve("song-finetuned.wav")) > 44 + 4 * 48000, r.output());
        assertTrue(java.nio.file.Files.exists(out.resolve("finetune/run/loss.png")), r.output());
        String gen = r.output().lines().filter(l -> l.startsWith("   $ ./bloom4j generate ")).findFirst().orElseThrow();
        String[] genArgs = gen.substring(0, gen.indexOf("   (")).trim().substring("$ ./bloom4j ".length()).split(" ");
        Captured g = Captured.run(() -> Bloom4jMain.run(genArgs));
        assertEquals(0, g.exitCode(), g.output());
        assertTrue(java.nio.file.Files.exists(out.resolve("songs-finetuned/quickstart_s0.wav")), g.output());
        String line = r.output().lines().filter(l -> l.startsWith("  ./bloom4j train ")).findFirst().orElseThrow();
        String[] args = line.trim().substring("./bloom4j ".length()).split(" ");
        Captured more = Captured.run(() -> Bloom4jMain.run(args));
        assertEquals(0, more.exitCode(), more.output());
        assertTrue(more.output().contains("resumed from") && more.output().contains("step 12/12"), more.output());
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        Captured r = Captured.run(() -> Bloom4jMain.run("genrate"));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("genrate"), r.output());
    }
}
