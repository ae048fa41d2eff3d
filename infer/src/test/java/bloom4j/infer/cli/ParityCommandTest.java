package bloom4j.infer.cli;

import bloom4j.tensor.parity.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParityCommandTest {

    static Object[] run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(p);
        System.setErr(p);
        try {
            int rc = InferMain.run(args);
            return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void passingFixtureExitsZeroWithTheContractLastLine(@TempDir Path tmp) throws Exception {
        Path dir = Fixture.unpackBundled("pt-formats", tmp.resolve("pt"));
        Object[] r = run("parity", dir.toString());
        String out = ((String) r[1]).trim();
        assertEquals(0, r[0], out);
        assertTrue(out.endsWith("parity pt-formats: PASS"), out);
    }

    @Test
    void unsupportedKindExitsNonZeroAndListsKinds(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("fixture.json"), "{\"kind\": \"made-up\"}");
        Object[] r = run("parity", tmp.toString());
        assertEquals(3, r[0]);
        assertTrue(((String) r[1]).contains("pt-formats"), (String) r[1]);
    }

    @Test
    void notAFixtureFolderIsAClearError(@TempDir Path tmp) {
        Object[] r = run("parity", tmp.toString());
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("fixture.json is missing"), (String) r[1]);
    }

    @Test
    void listAndHelp() {
        Object[] r = run("parity", "--list");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("pt-formats"));
        assertEquals(0, run("quickstart", "--help")[0]);
        assertEquals(2, run("parity", "--bogus")[0]);
    }
}
