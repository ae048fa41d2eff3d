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

    @Test void readsOnlyTheFirstSecondsOfEveryFormat(@TempDir Path dir) throws Exception {
        Audio long3s = AudioIOTest.sine(2, 3 * 32_000, 32_000, 0.3);   // MP3 needs 32/44.1/48 kHz
        for (AudioFormat fmt : new AudioFormat[] {AudioFormat.WAV_PCM16, AudioFormat.WAV_FLOAT32, AudioFormat.FLAC, AudioFormat.MP3}) {
            Path f = dir.resolve("long." + fmt.name().toLowerCase());
            AudioIO.write(f, long3s, fmt);
            Audio full = AudioIO.read(f), head = AudioIO.read(f, 1.25);
            assertEquals(40_000, head.frames(), fmt + ": 1.25 s at 32 kHz");
            for (int c = 0; c < 2; c++) {
                assertArrayEquals(java.util.Arrays.copyOf(full.channel(c), 40_000), head.channel(c), fmt + ": the same samples");
            }
            assertEquals(full.frames(), AudioIO.read(f, 100).frames(), fmt + ": a limit past the end reads everything");
        }
        assertThrows(IllegalArgumentException.class, () -> AudioIO.read(dir.resolve("long.flac"), 0));
    }

    /** A WAV whose header declares 4 GB of data but holds 8 frames: read in memory bounded by what is there. */
    @Test void aLyingHeaderDoesNotAllocateWhatItDeclares(@TempDir Path dir) throws Exception {
        byte[] w = AudioIOTest.wav(1, 2, 48_000, 16, new byte[32], null, null);
        ByteBuffer b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 12; i + 8 <= w.length; ) {
            String id = new String(w, i, 4, java.nio.charset.StandardCharsets.US_ASCII);
            int size = b.getInt(i + 4);
            if (id.equals("data")) { b.putInt(i + 4, 0xFFFFFFF0); break; }
            i += 8 + size + (size & 1);
        }
        Path f = dir.resolve("liar.wav");
        Files.write(f, w);
        assertEquals(8, AudioIO.read(f).frames());
    }

    @Test void aTextFileStartingWithId3IsNamedNotAnEof(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("notes.mp3");
        Files.writeString(f, "ID3 is what this text is about");
        AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("not an MP3 file"), e.getMessage());
    }
}
