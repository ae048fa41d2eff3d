package bloom4j.train.sketch;

import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.audio.Resampler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How the sketch tools read audio: a file as mono float samples at its own rate (channels averaged, as upstream mixes down), and
 * MuQ's 24 kHz view of it. A seam so that tests can feed synthetic audio; {@link #files()} is bloom4j's audio I/O.
 */
public interface AudioReader {

    /** Mono samples and their rate. */
    record Mono(float[] samples, int sampleRate) {
        public double seconds() { return samples.length / (double) sampleRate; }
    }

    Mono read(Path file) throws IOException;

    /** Audio files this reader takes, by extension (the content is checked when read). */
    default boolean accepts(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".wav") || n.endsWith(".flac") || n.endsWith(".mp3");
    }

    /** WAV, FLAC and MP3 through {@link AudioIO}, channels averaged ({@link Audio#mono()}). */
    static AudioReader files() {
        return file -> {
            Audio a = AudioIO.read(file).mono();
            return new Mono(a.channelView(0), a.sampleRate());
        };
    }

    /**
     * The samples at MuQ's 24 kHz: as they are at 24 kHz, else through {@link Resampler} (torchaudio's default windowed-sinc filter,
     * the resampling SongGeneration's MuQ-architecture tokenizer uses; MuQ's README loads with librosa, whose soxr filter differs in
     * the last bits near Nyquist).
     */
    static float[] at24k(Mono a, Path file) {
        return a.sampleRate() == 24000 ? a.samples() : Resampler.resample(a.samples(), a.sampleRate(), 24000);
    }
}
