package bloom4j.convert.cli;

import bloom4j.tensor.parity.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertMainTest {

    /** Runs the CLI with stdout and stderr captured; returns {exit code, stdout+stderr}. */
    static Object[] run(String... args) throws Exception {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(p);
        System.setErr(p);
        try {
            Callable<Integer> c = () -> ConvertMain.run(args);
            int rc = c.call();
            return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void helpAndUsageErrors() throws Exception {
        Object[] r = run("convert", "--help");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("--shard-size"), (String) r[1]);
        r = run("inspect", "--no-such-option", "x");
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("Unknown option"), (String) r[1]);
        r = run("convert", "--from", "a.pt");
        assertEquals(2, r[0], "missing --to is a usage error");
    }

    @Test
    void inspectListsEveryTensorAndTotals(@TempDir Path tmp) throws Exception {
        Path f = Fixture.unpackBundled("pt-formats", tmp).resolve("model.pt");
        Object[] r = run("inspect", f.toString());
        String out = (String) r[1];
        assertEquals(0, r[0], out);
        assertTrue(out.contains("model.skeleton_emb.weight") && out.contains("[6, 8]"), out);
        assertTrue(out.contains("total: 8 tensors, 173 elements"), out);
    }

    @Test
    void badInputGivesOneClearErrorNotAStackTrace(@TempDir Path tmp) throws Exception {
        Path junk = tmp.resolve("junk.pt");
        Files.writeString(junk, "this is not a checkpoint");
        Object[] r = run("inspect", junk.toString());
        String out = (String) r[1];
        assertEquals(1, r[0], out);
        assertTrue(out.startsWith("error: " + junk), out);
        assertTrue(!out.contains("\tat "), "no stack trace: " + out);
    }

    @Test
    void convertWritesTheFolderAndReportsTheKind(@TempDir Path tmp) throws Exception {
        Path f = Fixture.unpackBundled("pt-formats", tmp.resolve("fx")).resolve("model.pt");
        Object[] r = run("convert", "--from", f.toString(), "--to", tmp.resolve("m").toString(), "--dtype", "bf16");
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("of a songbloom model"), (String) r[1]);
        assertTrue(Files.exists(tmp.resolve("m/model.safetensors")));
        r = run("convert", "--from", f.toString(), "--to", tmp.resolve("m2").toString(), "--dtype", "int8");
        assertEquals(2, r[0], (String) r[1]);
    }

    @Test
    void shardSizesParse() {
        assertEquals(500L << 20, ConvertCommand.parseSize("500MB"));
        assertEquals(4L << 30, ConvertCommand.parseSize("4gb"));
        assertEquals(123, ConvertCommand.parseSize("123"));
    }
}
