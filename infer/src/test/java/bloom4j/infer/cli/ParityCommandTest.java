package bloom4j.infer.cli;

import bloom4j.tensor.cli.Captured;
import bloom4j.tensor.parity.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParityCommandTest {

    static Captured run(String... args) {
        return Captured.run(() -> InferMain.run(args));
    }

    @Test
    void passingFixtureExitsZeroWithTheContractLastLine(@TempDir Path tmp) throws Exception {
        Path dir = Fixture.unpackBundled("pt-formats", tmp.resolve("pt"));
        Captured r = run("parity", dir.toString());
        String out = (r.output()).trim();
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.endsWith("parity pt-formats: PASS"), out);
    }

    @Test
    void unsupportedKindExitsNonZeroAndListsKinds(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("fixture.json"), "{\"kind\": \"made-up\"}");
        Captured r = run("parity", tmp.toString());
        assertEquals(3, r.exitCode());
        assertTrue((r.output()).contains("pt-formats"), r.output());
    }

    @Test
    void notAFixtureFolderIsAClearError(@TempDir Path tmp) {
        Captured r = run("parity", tmp.toString());
        assertEquals(1, r.exitCode());
        assertTrue((r.output()).contains("fixture.json is missing"), r.output());
    }

    @Test
    void listAndHelp() {
        Captured r = run("parity", "--list");
        assertEquals(0, r.exitCode());
        assertTrue((r.output()).contains("pt-formats"));
        assertEquals(0, run("quickstart", "--help").exitCode());
        assertEquals(2, run("parity", "--bogus").exitCode());
    }
}
