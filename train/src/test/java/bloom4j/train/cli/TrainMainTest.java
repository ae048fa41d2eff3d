package bloom4j.train.cli;

import bloom4j.models.vq.CodebookFile;
import bloom4j.train.sketch.SketchExtractor;
import bloom4j.train.sketch.TestAudio;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code bloom4j train-vq} then {@code bloom4j extract-sketch} on two short songs with the tiny MuQ. */
class TrainMainTest {

    static int run(ByteArrayOutputStream out, String... args) {
        PrintStream old = System.out, oldErr = System.err;
        try {
            PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
            System.setOut(p);
            System.setErr(p);
            return TrainMain.run(args);
        } finally {
            System.setOut(old);
            System.setErr(oldErr);
        }
    }

    @Test void trainThenExtract(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("songs");
        TestAudio.wav(data.resolve("one.wav"), 3.0, 24_000, 1);
        TestAudio.wav(data.resolve("two.wav"), 2.0, 24_000, 2);
        Path cb = tmp.resolve("codebook.safetensors");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, run(out, "train-vq", "--data-dir", data.toString(), "--output", cb.toString(), "--muq", TestAudio.tinyMuq().toString(),
                "--codebook-size", "8", "--epochs", "2", "--layer", "2", "--batch-frames", "64"), out.toString());
        assertTrue(out.toString().contains("wrote " + cb), out.toString());
        assertTrue(out.toString().contains("last epoch:"), out.toString());
        CodebookFile.Loaded l = CodebookFile.read(cb);
        assertEquals(8, l.size());
        assertEquals(2, l.muqLayer());

        Path sk = tmp.resolve("sketch");
        assertEquals(0, run(out, "extract-sketch", "--data-dir", data.toString(), "--codebook", cb.toString(), "--output", sk.toString(),
                "--muq", TestAudio.tinyMuq().toString()), out.toString());
        assertEquals(75, SketchExtractor.readSketch(sk, "one", l.sha256()).length);
        assertTrue(Files.exists(sk.resolve("two.meta.json")));
    }

    @Test void badOptionsAreUsageErrors(@TempDir Path tmp) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(2, run(out, "train-vq", "--data-dir", tmp.resolve("none").toString(), "--output", "x.safetensors", "--muq",
                    TestAudio.tinyMuq().toString(), "--codebook-size", "8"));
        } finally {
            System.setErr(oldErr);
        }
        assertTrue(out.toString().contains("no such folder"), out.toString());   // run() captures stderr with stdout
    }

    @Test void layerDefaultsToTheModelsLastAndOutOfRangeNamesTheRange(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("songs");
        TestAudio.wav(data.resolve("one.wav"), 1.0, 24_000, 1);
        Path cb = tmp.resolve("codebook.safetensors");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, run(out, "train-vq", "--data-dir", data.toString(), "--output", cb.toString(), "--muq",
                TestAudio.tinyMuq().toString(), "--codebook-size", "4", "--epochs", "1", "--batch-frames", "16"), out.toString());
        assertEquals(2, CodebookFile.read(cb).muqLayer(), "the tiny MuQ has 2 layers: its last hidden state is 2");
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(2, run(out, "train-vq", "--data-dir", data.toString(), "--output", tmp.resolve("b.safetensors").toString(),
                    "--muq", TestAudio.tinyMuq().toString(), "--codebook-size", "4", "--layer", "12"));
        } finally {
            System.setErr(oldErr);
        }
        assertTrue(out.toString().contains("--layer 12") && out.toString().contains("hidden states 0 (conv stem) .. 2"), out.toString());
    }

    @org.junit.jupiter.api.Test
    void everySubcommandSummaryIsAWholeSentence() {
        java.util.List<String> cut = bloom4j.tensor.cli.HelpCheck.cutSummaries(new TrainMain());
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), cut, "first description lines shown cut in --help");
    }
}
