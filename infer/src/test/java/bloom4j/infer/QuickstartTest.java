package bloom4j.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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
            assertTrue(Files.exists(out.resolve("model/model.safetensors")));
            assertTrue(Files.size(out.resolve("song.wav")) > 44 + 4 * 48000, "1.28 s of stereo 16-bit audio");
        }
    }

    @Test
    void refusesAFolderItDidNotMake(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("precious.txt"), "x");
        assertThrows(IOException.class, () -> Quickstart.run(tmp, new PrintStream(PrintStream.nullOutputStream())));
        assertTrue(Files.exists(tmp.resolve("precious.txt")));
    }
}
