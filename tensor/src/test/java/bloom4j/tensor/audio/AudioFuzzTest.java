package bloom4j.tensor.audio;

import bloom4j.tensor.io.Fuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of small WAV (16-bit, float), FLAC and MP3 files, read through {@link AudioIO#read} whole and bounded: each
 * mutant either decodes to finite audio or is refused with an {@link AudioFileException} whose message names the file; never
 * another exception, an OutOfMemoryError or a hang.
 */
class AudioFuzzTest {

    static byte[] encoded(Path dir, AudioFormat format, String name) throws Exception {
        int sr = format == AudioFormat.MP3 ? 32000 : 16000, n = 4000;
        float[][] x = new float[2][n];
        for (int i = 0; i < n; i++) {
            x[0][i] = (float) (0.4 * Math.sin(2 * Math.PI * 440 * i / sr));
            x[1][i] = (float) (0.3 * Math.sin(2 * Math.PI * 660 * i / sr));
        }
        Path f = dir.resolve(name);
        AudioIO.write(f, Audio.of(x, sr), format);
        return Files.readAllBytes(f);
    }

    @Test
    void mutatedAudioFilesDecodeOrFailNamingTheFile(@TempDir Path dir) throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(encoded(dir, AudioFormat.WAV_PCM16, "a.wav"));
        seeds.add(encoded(dir, AudioFormat.WAV_FLOAT32, "b.wav"));
        seeds.add(encoded(dir, AudioFormat.FLAC, "c.flac"));
        seeds.add(encoded(dir, AudioFormat.MP3, "d.mp3"));
        Path work = Files.createDirectories(dir.resolve("work"));
        int perSeed = 150;
        Fuzz fuzz = new Fuzz(2026).hotField(4, 4).hotField(22, 2).hotField(24, 4).hotField(40, 4);  // RIFF size, channels, rate, data size
        Fuzz.Stats s = fuzz.run(seeds, perSeed, work, Duration.ofSeconds(20), AudioFuzzTest::readAll, fuzz::mutate,
                (t, file) -> t instanceof AudioFileException && t.getMessage() != null && t.getMessage().contains(file.toString()));
        assertEquals(seeds.size() * perSeed, s.accepted() + s.rejected());
        assertTrue(s.rejected() > 0, s.toString());
    }

    static void readAll(Path file) throws Exception {
        for (double max : new double[] {Double.POSITIVE_INFINITY, 0.05}) {
            Audio a = AudioIO.read(file, max);
            for (int c = 0; c < a.channels(); c++) {
                for (float v : a.channel(c)) {
                    if (!Float.isFinite(v)) throw new AssertionError("non-finite sample decoded from " + file);
                }
            }
        }
    }

    @Test
    void aWriteErrorNamesTheFileAskedForNotItsTemporary(@TempDir Path dir) {
        Path f = dir.resolve("song.mp3");
        AudioFileException e = org.junit.jupiter.api.Assertions.assertThrows(AudioFileException.class,
                () -> AudioIO.write(f, Audio.mono(new float[100], 16000), AudioFormat.MP3));
        assertTrue(e.getMessage().startsWith(f + ": MP3"), e.getMessage());
        assertEquals(f, e.file());
        assertTrue(!Files.exists(f));
    }
}
