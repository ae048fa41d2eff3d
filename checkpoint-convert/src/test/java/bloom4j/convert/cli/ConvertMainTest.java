package bloom4j.convert.cli;

import bloom4j.tensor.cli.Captured;
import bloom4j.tensor.parity.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertMainTest {

    static Captured run(String... args) {
        return Captured.run(() -> ConvertMain.run(args));
    }

    @Test
    void helpAndUsageErrors() throws Exception {
        Captured r = run("convert", "--help");
        assertEquals(0, r.exitCode());
        assertTrue((r.output()).contains("--shard-size"), r.output());
        r = run("inspect", "--no-such-option", "x");
        assertEquals(2, r.exitCode());
        assertTrue((r.output()).contains("Unknown option"), r.output());
        r = run("convert", "--from", "a.pt");
        assertEquals(2, r.exitCode(), "missing --to is a usage error");
    }

    @Test
    void inspectListsEveryTensorAndTotals(@TempDir Path tmp) throws Exception {
        Path f = Fixture.unpackBundled("pt-formats", tmp).resolve("model.pt");
        Captured r = run("inspect", f.toString());
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.contains("model.skeleton_emb.weight") && out.contains("[6, 8]"), out);
        assertTrue(out.contains("total: 8 tensors, 173 elements"), out);
    }

    @Test
    void inspectEscapesTerminalControlCharactersInNames(@TempDir Path tmp) throws Exception {
        java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> m = new java.util.LinkedHashMap<>();
        m.put("evil\u001b]0;owned\u0007.weight", org.nd4j.linalg.factory.Nd4j.ones(2));
        m.put("rtl\u202eexe.bias", org.nd4j.linalg.factory.Nd4j.ones(1));
        Path f = tmp.resolve("evil.safetensors");
        bloom4j.tensor.io.SafeTensorsWriter.write(f, bloom4j.tensor.io.SafeTensorsWriter.arrays(m),
                java.util.Map.of("note\u001b[2J", "clear\u009bscreen"));
        Captured r = run("inspect", f.toString());
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.chars().noneMatch(c -> c == 0x1b || c == 0x07 || c == 0x9b || c == 0x202e), "raw control characters: " + out);
        assertTrue(out.contains("evil\\u001b]0;owned\\u0007.weight") && out.contains("rtl\\u202eexe.bias"), out);
        assertTrue(out.contains("note\\u001b[2J = clear\\u009bscreen"), out);
    }

    @Test
    void badInputGivesOneClearErrorNotAStackTrace(@TempDir Path tmp) throws Exception {
        Path junk = tmp.resolve("junk.pt");
        Files.writeString(junk, "this is not a checkpoint");
        Captured r = run("inspect", junk.toString());
        String out = r.output();
        assertEquals(1, r.exitCode(), out);
        assertTrue(out.startsWith("error: " + junk), out);
        assertTrue(!out.contains("\tat "), "no stack trace: " + out);
    }

    @Test
    void convertWritesTheFolderAndReportsTheKind(@TempDir Path tmp) throws Exception {
        Path f = Fixture.unpackBundled("pt-formats", tmp.resolve("fx")).resolve("model.pt");
        Captured r = run("convert", "--from", f.toString(), "--to", tmp.resolve("m").toString(), "--dtype", "bf16");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue((r.output()).contains("of a songbloom model"), r.output());
        assertTrue(Files.exists(tmp.resolve("m/model.safetensors")));
        r = run("convert", "--from", f.toString(), "--to", tmp.resolve("m2").toString(), "--dtype", "int8");
        assertEquals(2, r.exitCode(), r.output());
    }

    @Test
    void shardSizesParse() {
        assertEquals(500L << 20, ConvertCommand.parseSize("500MB"));
        assertEquals(4L << 30, ConvertCommand.parseSize("4gb"));
        assertEquals(123, ConvertCommand.parseSize("123"));
    }

    @org.junit.jupiter.api.Test
    void everySubcommandSummaryIsAWholeSentence() {
        java.util.List<String> cut = bloom4j.tensor.cli.HelpCheck.cutSummaries(new ConvertMain());
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), cut, "first description lines shown cut in --help");
    }

    @Test
    void aStrideZeroExpansionIsRefusedUntilAllowed(@TempDir Path tmp) throws Exception {
        // a 24-byte storage viewed as [65536, 6] with stride 0: 1.5 MiB from a file of a few hundred bytes
        java.nio.ByteBuffer six = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) six.putFloat(i);
        byte[] pkl = bloom4j.tensor.pickle.PickleBytes.proto2().orderedDict().mark().str("w")
                .tensorV2("FloatStorage", "0", 6, 0, new long[] {65536, 6}, new long[] {0, 1}).setItems().stop().bytes();
        Path pt = tmp.resolve("expanded.pt");
        new bloom4j.tensor.io.TorchZipWriter().add("archive/data.pkl", pkl).add("archive/byteorder", "little")
                .add("archive/data/0", six.array()).add("archive/version", "3\n").write(pt);
        Captured refused = run("convert", "--from", pt.toString(), "--to", tmp.resolve("out").toString());
        assertEquals(1, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("--allow-expanded-views"), refused.output());
        assertTrue(!Files.exists(tmp.resolve("out")), "nothing is published");
        Captured allowed = run("convert", "--from", pt.toString(), "--to", tmp.resolve("out").toString(), "--allow-expanded-views");
        assertEquals(0, allowed.exitCode(), allowed.output());
        assertTrue(Files.size(tmp.resolve("out/model.safetensors")) > 65536 * 6 * 4);
    }
}
