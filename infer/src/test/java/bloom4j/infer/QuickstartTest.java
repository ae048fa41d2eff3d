package bloom4j.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuickstartTest {

    @Test
    void runsEndToEndAndCanBeRepeated(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("qs");
        for (int i = 0; i < 2; i++) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            boolean ok = Quickstart.run(out, new PrintStream(buf, true, StandardCharsets.UTF_8));
            String log = buf.toString(StandardCharsets.UTF_8);
            assertTrue(ok, log);
            assertTrue(log.contains("all identical") && log.contains("parity pt-formats: PASS"), log);
            assertTrue(Files.exists(out.resolve("converted/model.safetensors")));
            assertTrue(log.contains("next: " + out.toAbsolutePath().resolve("songbloom") + " is a model folder 'generate' takes"), log);
            assertTrue(Files.size(out.resolve("song.wav")) > 44 + 4 * 48000, "1.28 s of stereo 16-bit audio");
            if (i == 1) {
                // the command quickstart prints as the next step works as printed
                String line = log.lines().filter(l -> l.startsWith("  ./bloom4j generate ")).findFirst().orElseThrow();
                String[] args = line.trim().substring("./bloom4j ".length()).split(" ");
                bloom4j.tensor.cli.Captured r = bloom4j.tensor.cli.Captured.run(() -> bloom4j.infer.cli.InferMain.run(args));
                assertEquals(0, r.exitCode(), r.output());
                assertTrue(Files.exists(out.resolve("songs/quickstart_s0.wav")), r.output());
            }
        }
    }

    @Test
    void refusesAFolderItDidNotMake(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("precious.txt"), "x");
        assertThrows(IOException.class, () -> Quickstart.run(tmp, new PrintStream(PrintStream.nullOutputStream())));
        assertTrue(Files.exists(tmp.resolve("precious.txt")));
    }
}
