package bloom4j.tensor.audio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** NaN or infinite samples never pass silently: refused when read (naming the file) and never written. */
class AudioFiniteTest {

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    @Test void nanInAFloatWavIsAnErrorNamingTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("prompt.wav");
        Files.write(f, AudioIOTest.wav(3, 1, 48_000, 32, floats(0.1f, 0.2f, Float.NaN, 0.3f), null, null));
        AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("NaN at channel 0, frame 2"), e.getMessage());
    }

    @Test void infinityIsRefusedToo(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("stereo.wav");
        Files.write(f, AudioIOTest.wav(3, 2, 24_000, 32, floats(0f, 0f, 0f, Float.POSITIVE_INFINITY), null, null));
        AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.read(f));
        assertTrue(e.getMessage().contains("infinity at channel 1, frame 1"), e.getMessage());
    }

    @Test void finiteFloatWavStillReads(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ok.wav");
        Files.write(f, AudioIOTest.wav(3, 1, 16_000, 32, floats(0.5f, -0.25f), null, null));
        assertArrayEquals(new float[] {0.5f, -0.25f}, AudioIO.read(f).channel(0));
    }

    @Test void nonFiniteAudioIsNeverWritten(@TempDir Path dir) throws Exception {
        Audio bad = Audio.mono(new float[] {0f, Float.NaN, 0f}, 48_000);
        for (AudioFormat fmt : AudioFormat.values()) {
            Path out = dir.resolve("song." + fmt.name().toLowerCase());
            AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.write(out, bad, fmt));
            assertTrue(e.getMessage().contains("NaN at channel 0, frame 1") && e.getMessage().contains("nothing was written"));
            assertFalse(Files.exists(out), fmt + ": no file may be left");
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no temporary file is left either");
        }
    }
}
