package bloom4j.tensor.audio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AudioIOTest {

    static Audio sine(int channels, int frames, int rate, double amp) {
        float[][] s = new float[channels][frames];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < frames; i++) s[c][i] = (float) (amp * Math.sin(2 * Math.PI * 440.0 * (c + 1) * i / rate + c));
        }
        return Audio.of(s, rate);
    }

    /** A WAV file from raw header fields and sample bytes; {@code extra} chunks go before {@code data}. */
    static byte[] wav(int tag, int channels, int rate, int bits, byte[] data, byte[] extensibleTail, byte[] extra) {
        int container = (bits + 7) / 8;
        ByteBuffer fmt = ByteBuffer.allocate(extensibleTail == null ? 16 : 40).order(ByteOrder.LITTLE_ENDIAN);
        fmt.putShort((short) tag).putShort((short) channels).putInt(rate).putInt(rate * channels * container)
                .putShort((short) (channels * container)).putShort((short) bits);
        if (extensibleTail != null) fmt.put(extensibleTail);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        h.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(0).put("WAVE".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(h.array());
        out.writeBytes(chunk("fmt ", fmt.array()));
        if (extra != null) out.writeBytes(extra);
        out.writeBytes(chunk("data", data));
        return out.toByteArray();
    }

    static byte[] chunk(String id, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length + (body.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(id.getBytes(StandardCharsets.US_ASCII)).putInt(body.length).put(body);
        return b.array();
    }

    static byte[] le(int bytesPer, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) for (int i = 0; i < bytesPer; i++) b.put((byte) (v >> (8 * i)));
        return b.array();
    }

    static Audio readBytes(Path dir, String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return AudioIO.read(p);
    }

    @Test void wavPcmDepthsScaleAsTorchaudio(@TempDir Path dir) throws IOException {
        Audio u8 = readBytes(dir, "u8.wav", wav(1, 1, 8000, 8, new byte[] {0, (byte) 128, (byte) 255}, null, null));
        assertArrayEquals(new float[] {-1f, 0f, 127 / 128f}, u8.channel(0));
        Audio s16 = readBytes(dir, "s16.wav", wav(1, 2, 16000, 16, le(2, -32768, 32767, 16384, -1), null, null));
        assertEquals(2, s16.channels());
        assertEquals(16000, s16.sampleRate());
        assertArrayEquals(new float[] {-1f, 0.5f}, s16.channel(0));
        assertArrayEquals(new float[] {32767 / 32768f, -1 / 32768f}, s16.channel(1));
        Audio s24 = readBytes(dir, "s24.wav", wav(1, 1, 44100, 24, le(3, -8388608, 4194304, 1), null, null));
        assertArrayEquals(new float[] {-1f, 0.5f, 1f / 8388608}, s24.channel(0));
        Audio s32 = readBytes(dir, "s32.wav", wav(1, 1, 48000, 32, le(4, Integer.MIN_VALUE, 1 << 30), null, null));
        assertArrayEquals(new float[] {-1f, 0.5f}, s32.channel(0));
    }

    @Test void wavFloatAndExtensible(@TempDir Path dir) throws IOException {
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-1.5);
        assertArrayEquals(new float[] {0.25f, -1.5f}, readBytes(dir, "f64.wav", wav(3, 1, 22050, 64, f64.array(), null, null)).channel(0));
        // WAVE_FORMAT_EXTENSIBLE: cbSize 22, 20 valid bits in a 24-bit container, front L|R, sub-format PCM GUID
        ByteBuffer tail = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 22).putShort((short) 20).putInt(3)
                .putShort((short) 1).put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        Audio ext = readBytes(dir, "ext.wav", wav(0xFFFE, 2, 96000, 24, le(3, 4194304, -4194304), tail.array(), null));
        assertEquals(96000, ext.sampleRate());
        assertArrayEquals(new float[] {0.5f}, ext.channel(0));
        assertArrayEquals(new float[] {-0.5f}, ext.channel(1));
        // extensible float, with an odd-sized LIST chunk before the data (padding byte must be skipped)
        ByteBuffer ftail = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 22).putShort((short) 32).putInt(4)
                .putShort((short) 3).put(new byte[14]);
        ByteBuffer fdata = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.125f).putFloat(2f);
        Audio extF = readBytes(dir, "extf.wav", wav(0xFFFE, 1, 8000, 32, fdata.array(), ftail.array(), chunk("LIST", new byte[] {1, 2, 3})));
        assertArrayEquals(new float[] {0.125f, 2f}, extF.channel(0));
    }

    @Test void truncatedDataKeepsWholeFrames(@TempDir Path dir) throws IOException {
        byte[] full = wav(1, 2, 8000, 16, le(2, 1, 2, 3, 4, 5, 6), null, null);
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 3);          // last frame incomplete
        Audio a = readBytes(dir, "cut.wav", cut);
        assertEquals(2, a.frames());
    }

    @Test void errorsNameTheFileAndWhatWasExpected(@TempDir Path dir) throws IOException {
        Path adpcm = dir.resolve("adpcm.wav");
        Files.write(adpcm, wav(2, 1, 8000, 4, new byte[4], null, null));
        AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.read(adpcm));
        assertTrue(e.getMessage().startsWith(adpcm.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("0x0002") && e.getMessage().contains("PCM"), e.getMessage());

        Path text = dir.resolve("notes.wav");
        Files.writeString(text, "hello, this is not audio");
        e = assertThrows(AudioFileException.class, () -> AudioIO.read(text));
        assertTrue(e.getMessage().contains("expected WAV (RIFF/RF64), FLAC"), e.getMessage());

        Path empty = dir.resolve("empty.flac");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(AudioFileException.class, () -> AudioIO.read(empty)).getMessage().contains("empty"));

        assertThrows(NoSuchFileException.class, () -> AudioIO.read(dir.resolve("missing.wav")));

        Path badFlac = dir.resolve("bad.flac");
        Files.write(badFlac, new byte[] {'f', 'L', 'a', 'C', 0, 0, 0, 1, 9});
        assertTrue(assertThrows(AudioFileException.class, () -> AudioIO.read(badFlac)).getMessage().contains("FLAC"));
    }

    @Test void wavRoundTrips(@TempDir Path dir) throws IOException {
        Audio a = sine(2, 4801, 48000, 0.8);
        Path f32 = dir.resolve("f.wav");
        AudioIO.write(f32, a, AudioFormat.WAV_FLOAT32);
        Audio b = AudioIO.read(f32);
        assertEquals(48000, b.sampleRate());
        assertArrayEquals(a.channel(0), b.channel(0));
        assertArrayEquals(a.channel(1), b.channel(1));

        Path p16 = dir.resolve("p.wav");
        AudioIO.write(p16, a);                                             // .wav: 16-bit
        Audio c = AudioIO.read(p16);
        for (int ch = 0; ch < 2; ch++) assertArrayEquals(a.channel(ch), c.channel(ch), 0.5f / 32768 + 1e-7f);
        assertEquals(44 + 4801 * 4, Files.size(p16));

        assertEquals(32767 / 32768f, AudioIO.read(write16(dir, 2f)).channel(0)[0]);                  // clipped
        assertEquals(-1f, AudioIO.read(write16(dir, -3f)).channel(0)[0]);
    }

    static Path write16(Path dir, float v) throws IOException {
        Path p = dir.resolve("clip" + v + ".wav");
        AudioIO.write(p, Audio.mono(new float[] {v}, 8000), AudioFormat.WAV_PCM16);
        return p;
    }

    @Test void flacRoundTripsAt24Bits(@TempDir Path dir) throws IOException {
        Audio a = sine(2, 10_000, 44100, 0.9);
        Path f = dir.resolve("x.flac");
        AudioIO.write(f, a, AudioFormat.FLAC);
        assertEquals(AudioIO.Container.FLAC, AudioIO.detect(f));
        Audio b = AudioIO.read(f);
        assertEquals(44100, b.sampleRate());
        assertEquals(2, b.channels());
        assertEquals(10_000, b.frames());
        for (int c = 0; c < 2; c++) assertArrayEquals(a.channel(c), b.channel(c), 0.5f / (1 << 23) + 1e-7f);
        Audio odd = sine(1, 2 * 4096 + 3, 48000, 0.5);                    // would end in a 3-frame block at the default size
        Path o = dir.resolve("odd.flac");
        AudioIO.write(o, odd, AudioFormat.FLAC);
        assertArrayEquals(odd.channel(0), AudioIO.read(o).channel(0), 0.5f / (1 << 23) + 1e-7f);
        Audio m = Audio.mono(new float[] {0f, 0.5f, -0.25f}, 16000);
        Path g = dir.resolve("m.flac");
        AudioIO.write(g, m);
        assertArrayEquals(m.channel(0), AudioIO.read(g).channel(0));
    }

    @Test void mp3RoundTripKeepsTheTone(@TempDir Path dir) throws IOException {
        int rate = 48000;
        Audio a = sine(2, rate, rate, 0.5);                                // 440 Hz left, 880 Hz right, one second
        Path f = dir.resolve("x.mp3");
        AudioIO.write(f, a, AudioFormat.MP3);
        assertEquals(AudioIO.Container.MP3, AudioIO.detect(f));
        assertTrue(Files.size(f) < rate * 4 / 4, "compressed: " + Files.size(f));
        Audio b = AudioIO.read(f);
        assertEquals(rate, b.sampleRate());
        assertEquals(2, b.channels());
        assertTrue(b.frames() >= rate && b.frames() < rate + 4 * 1152, "frames " + b.frames());
        for (int c = 0; c < 2; c++) {
            double f0 = 440.0 * (c + 1);
            // amplitude of the tone over the middle half second, whatever the encoder delay: |<x, e^{-iwt}>| · 2 / n
            double re = 0, im = 0;
            float[] x = b.channelView(c);
            int from = rate / 4, n = rate / 2;
            for (int i = from; i < from + n; i++) {
                re += x[i] * Math.cos(2 * Math.PI * f0 * i / rate);
                im += x[i] * Math.sin(2 * Math.PI * f0 * i / rate);
            }
            double amp = 2 * Math.hypot(re, im) / n;
            assertEquals(0.5, amp, 0.02, "channel " + c + " tone amplitude");
        }
    }

    @Test void writesAreAtomic(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("song.mp3");
        Files.writeString(target, "previous");
        Audio at16k = sine(1, 1600, 16000, 0.5);
        AudioFileException e = assertThrows(AudioFileException.class, () -> AudioIO.write(target, at16k, AudioFormat.MP3));
        assertTrue(e.getMessage().contains("48000") && e.getMessage().contains("Resampler"), e.getMessage());
        assertEquals("previous", Files.readString(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
        assertThrows(AudioFileException.class, () -> AudioIO.write(target, sine(3, 10, 48000, 0.1), AudioFormat.MP3));
    }

    @Test void channelMixing() {
        Audio st = Audio.of(new float[][] {{1f, 0f, -1f}, {0f, 0.5f, 1f}}, 8000);
        assertArrayEquals(new float[] {0.5f, 0.25f, 0f}, st.mono().channel(0));
        Audio m = Audio.mono(new float[] {0.1f, 0.2f}, 8000);
        Audio two = m.toChannels(2);
        assertArrayEquals(two.channel(0), two.channel(1));
        assertEquals(m, m.mono());
        assertThrows(IllegalArgumentException.class, () -> Audio.of(new float[][] {{1f}, {1f}, {1f}}, 8000).toChannels(2));
        assertEquals(2, Audio.fromINDArray(st.toINDArray(), 8000).channels());
        assertArrayEquals(new float[] {0f, -1f}, st.slice(1, 3).channel(0));
        assertEquals(2, st.truncate(2).frames());
        assertThrows(IllegalArgumentException.class, () -> Audio.of(new float[][] {{1f}, {1f, 2f}}, 8000));
    }

    @Test void formatNames() {
        assertEquals(AudioFormat.WAV_PCM16, AudioFormat.parse("WAV"));
        assertEquals(AudioFormat.WAV_FLOAT32, AudioFormat.parse("wav-float"));
        assertEquals(AudioFormat.FLAC, AudioFormat.forPath(Path.of("a/b.FLAC")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AudioFormat.parse("ogg"));
        assertTrue(e.getMessage().contains("wav, wav-float, flac or mp3"));
    }
}
