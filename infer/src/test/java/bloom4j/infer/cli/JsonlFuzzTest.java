package bloom4j.infer.cli;

import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.io.Fuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of a valid {@code generate} input file, read by the same check the command runs before loading a model: each
 * mutant either yields requests or is refused with an IllegalArgumentException naming the file (and the line, for a line's
 * fault); never another exception or a hang.
 */
class JsonlFuzzTest {

    @Test
    void mutatedJsonlIsReadOrRefusedNamingFileAndLine(@TempDir Path dir) throws Exception {
        float[] x = new float[8000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.2 * Math.sin(i * 0.05));
        AudioIO.write(dir.resolve("prompt.wav"), Audio.mono(x, 16000), AudioFormat.WAV_PCM16);
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.copy(dir.resolve("prompt.wav"), work.resolve("prompt.wav"));
        String valid = "{\"idx\": \"song1\", \"lyrics\": \"[verse] n i3 h ao3 . w o3\", \"prompt_wav\": \"prompt.wav\"}\n"
                + "{\"idx\": \"song-2\", \"lyrics\": \"[chorus] HH AH0 L OW1\", \"prompt_wav\": \"prompt.wav\", \"extra\": [1, {\"a\": null}]}\n"
                + "\n{\"idx\": \"3.x\", \"lyrics\": \"\\u3042 [outro]\", \"prompt_wav\": \"./prompt.wav\"}\n";
        int[] kept = {0};
        Fuzz fuzz = new Fuzz(99);
        Fuzz.Stats s = fuzz.run(List.of(valid.getBytes(StandardCharsets.UTF_8)), 600, work, Duration.ofSeconds(10),
                file -> kept[0] += GenerateCommand.read(file, 1, null, 0, null, null, null, null).size(), fuzz::mutate,
                (t, file) -> t instanceof IllegalArgumentException && t.getMessage() != null
                        && t.getMessage().contains(file.toString()));
        assertEquals(600, s.accepted() + s.rejected());
        assertTrue(s.rejected() > 100 && s.accepted() > 0, s + ", " + kept[0] + " requests");
    }
}
