package bloom4j.nn.lora;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.ParityKinds;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.ParityRunner;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same check as {@code bloom4j parity <fixture>} on the three PEFT fixtures (tensor test resources, see TestFixtures). */
class PeftParityTest {

    static Path fixture(String name) { return TestFixtures.dir(name); }

    @ParameterizedTest
    @ValueSource(strings = {"lora-linear", "dora-linear", "dora-dropout"})
    void fixturePasses(String kind) throws Exception {
        assertTrue(ParityKinds.find(kind).isPresent(), kind + " is not registered");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(fixture(kind), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.passed(), out);
        for (ParityReport.Line l : o.report().lines()) assertTrue(l.pass(), l.toString());
    }

    /** A magnitude off by 1e-3 in the adapter file: the adapter line and everything m reaches fail. */
    @Test
    void aChangedMagnitudeFails(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("dora-linear");
        Path src = fixture("dora-linear");
        for (String f : List.of("fixture.json", "model.pt", "io.safetensors", "adapter_dora/adapter_config.json")) {
            Files.createDirectories(dir.resolve(f).getParent());
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(src.resolve("adapter_dora/adapter_model.safetensors"))) {
            for (String n : f.names()) tensors.put(n, f.load(n, DataType.FLOAT));
        }
        String key = "base_model.model.blocks.0.proj.lora_magnitude_vector";
        tensors.get(key).putScalar(0, tensors.get(key).getFloat(0) + 1e-3f);
        SafeTensorsWriter.write(dir.resolve("adapter_dora/adapter_model.safetensors"), SafeTensorsWriter.arrays(tensors),
                Map.of("format", "pt"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertFalse(o.passed());
        List<String> failed = o.report().lines().stream().filter(l -> !l.pass()).map(ParityReport.Line::name).toList();
        assertTrue(failed.contains("dora.adapter magnitude"), failed.toString());
        assertTrue(failed.contains("dora.y_eval"), failed.toString());
        assertFalse(failed.contains("dora.grad_magnitude"), "dL/dm does not depend on m: " + failed);
        assertFalse(failed.contains("dora.round trip adapter_model.safetensors"), "the round trip compares with the folder read");
    }

    /**
     * The fixtures' row inputs reshaped to {@code [2, N/2, d]} (or {@code [1, N, d]}), as attention layers feed PEFT: every per-row tensor (x, the upstream
     * gradient g, the dropout mask, the outputs and grad_x) gets the same leading dimensions, and the parity must still pass.
     */
    @ParameterizedTest
    @ValueSource(strings = {"lora-linear", "dora-linear", "dora-dropout"})
    void rankThreeInputsPass(String kind, @TempDir Path tmp) throws Exception {
        Path src = fixture(kind), dir = tmp.resolve(kind);
        try (var walk = Files.walk(src)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                Path to = dir.resolve(src.relativize(p).toString());
                Files.createDirectories(to.getParent());
                Files.copy(p, to);
            }
        }
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        long rows;
        try (SafeTensorsFile f = SafeTensorsFile.open(src.resolve("io.safetensors"))) {
            rows = f.load("x").size(0);
            for (String n : f.names()) tensors.put(n, f.load(n));
        }
        long lead0 = rows % 2 == 0 ? 2 : 1;                                  // [2, N/2, d] where N allows, else [1, N, d]
        int reshaped = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            INDArray a = e.getValue();
            String n = e.getKey();
            boolean perRow = n.equals("x") || n.equals("g") || n.equals("dropout_mask") || n.endsWith(".y_eval") || n.endsWith(".y_train")
                    || n.endsWith(".y_merged") || n.endsWith(".grad_x");
            if (perRow && a.rank() == 2 && a.size(0) == rows) {
                e.setValue(a.dup('c').reshape('c', lead0, rows / lead0, a.size(1)));
                reshaped++;
            }
        }
        assertTrue(reshaped >= 4, "x, g and outputs were reshaped: " + reshaped);
        SafeTensorsWriter.write(dir.resolve("io.safetensors"), SafeTensorsWriter.arrays(tensors), Map.of("format", "pt"));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(o.passed(), out);
        assertTrue(out.contains("y_eval"), out);
    }
}
