package bloom4j.train.sketch;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * How the sketch tools read audio: a file as mono float samples at its own rate (channels averaged, as librosa's mono load).
 *
 * <p>TEMPORARY seam: bloom4j's audio I/O ({@code bloom4j.tensor.audio}: wav/flac/mp3 and a torchaudio-compatible resampler) is being
 * written on another branch. Until it is merged, {@link #jdk()} reads WAV/AIFF PCM through {@code javax.sound.sampled} and the tools
 * accept only audio that is already at MuQ's 24 kHz. Replace {@link #jdk()} by the real reader and resampler once merged.
 */
public interface AudioReader {

    /** Mono samples and their rate. */
    record Mono(float[] samples, int sampleRate) {
        public double seconds() { return samples.length / (double) sampleRate; }
    }

    Mono read(Path file) throws IOException;

    /** Audio files this reader can open, by extension. */
    default boolean accepts(Path file) {
        String n = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".wav") || n.endsWith(".aif") || n.endsWith(".aiff");
    }

    /** 16/24/32-bit integer and 32-bit float PCM WAV/AIFF through the JDK, channels averaged. */
    static AudioReader jdk() {
        return file -> {
            try (AudioInputStream in = AudioSystem.getAudioInputStream(file.toFile())) {
                AudioFormat f = in.getFormat();
                int bytes = f.getSampleSizeInBits() / 8, ch = f.getChannels();
                boolean isFloat = f.getEncoding() == AudioFormat.Encoding.PCM_FLOAT;
                if (!isFloat && f.getEncoding() != AudioFormat.Encoding.PCM_SIGNED || bytes < 2 || bytes > 4 || (isFloat && bytes != 4)) {
                    throw new IOException(file + ": unsupported audio encoding " + f + "; use 16/24/32-bit PCM or 32-bit float WAV");
                }
                ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(f.isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                int frames = b.capacity() / (bytes * ch);
                float[] mono = new float[frames];
                for (int i = 0; i < frames; i++) {
                    double sum = 0;
                    for (int c = 0; c < ch; c++) sum += sample(b, (i * ch + c) * bytes, bytes, isFloat, f.isBigEndian());
                    mono[i] = (float) (sum / ch);
                }
                return new Mono(mono, Math.round(f.getSampleRate()));
            } catch (UnsupportedAudioFileException e) {
                throw new IOException(file + ": not a WAV/AIFF file the JDK can read (" + e.getMessage() + ")", e);
            }
        };
    }

    private static double sample(ByteBuffer b, int at, int bytes, boolean isFloat, boolean bigEndian) {
        if (isFloat) return b.getFloat(at);
        if (bytes == 2) return b.getShort(at) / 32768.0;
        if (bytes == 4) return b.getInt(at) / 2147483648.0;
        int b0 = b.get(at) & 0xFF, b1 = b.get(at + 1) & 0xFF, b2 = b.get(at + 2);   // 24-bit, sign from the top byte
        int v = bigEndian ? ((b.get(at) << 16) | (b1 << 8) | (b.get(at + 2) & 0xFF)) : ((b2 << 16) | (b1 << 8) | b0);
        return v / 8388608.0;
    }

    /** The samples at MuQ's 24 kHz, or a clear error while no resampler is available. */
    static float[] at24k(Mono a, Path file) {
        if (a.sampleRate() != 24000) {
            throw new IllegalArgumentException(file + " is at " + a.sampleRate() + " Hz; MuQ needs 24000 Hz mono and this build has no "
                    + "resampler yet: convert first, e.g. 'sox in.wav -r 24000 -c 1 out.wav'");
        }
        return a.samples();
    }
}
