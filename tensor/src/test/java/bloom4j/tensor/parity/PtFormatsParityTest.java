package bloom4j.tensor.parity;

import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same check as {@code bloom4j parity <pt-formats fixture>}, on the fixture bundled with the tensor module. */
class PtFormatsParityTest {

    @Test
    void bundledFixturePasses(@TempDir Path tmp) throws Exception {
        Path dir = Fixture.unpackBundled("pt-formats", tmp.resolve("pt-formats"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.passed(), out);
        // every expected tensor was compared (56 of them) plus one completeness line per file (7)
        try (SafeTensorsFile io = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            assertEquals(io.names().size() + 7, o.report().lines().size(), out);
        }
        String[] lines = out.split("\n");
        assertEquals("parity pt-formats: PASS", lines[lines.length - 1].trim());
    }

    @Test
    void aWrongReferenceValueFails(@TempDir Path tmp) throws Exception {
        Path dir = Fixture.unpackBundled("pt-formats", tmp.resolve("pt-formats"));
        Path io = dir.resolve("io.safetensors");
        Map<String, RawTensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafeTensorsFile f = SafeTensorsFile.open(io)) {
            meta = f.metadata();
            for (String n : f.names()) {
                RawTensor t = f.raw(n);
                ByteBuffer copy = ByteBuffer.allocate(t.byteSize()).order(ByteOrder.LITTLE_ENDIAN).put(t.bytes());
                copy.flip();
                if (n.equals("views.pt/strided")) copy.putFloat(8, copy.getFloat(8) + 1e-6f);
                tensors.put(n, new RawTensor(t.dtype(), t.shape(), copy));
            }
        }
        Files.delete(io);
        SafeTensorsWriter.write(io, tensors, meta);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertFalse(o.passed());
        assertEquals(1, o.report().lines().stream().filter(l -> !l.pass()).count());
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("parity pt-formats: FAIL"));
    }

    @Test
    void unknownKindIsReportedAsUnsupported(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("fixture.json"), "{\"kind\": \"no-such-kind\"}");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(tmp, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertFalse(o.supported());
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("supported kinds: pt-formats"), buf.toString(StandardCharsets.UTF_8));
    }
}
