package bloom4j.tensor.audio;

import bloom4j.tensor.util.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads and writes audio files, the one place every bloom4j model goes through.
 *
 * <pre>{@code
 * Audio prompt = AudioIO.read(Path.of("prompt.mp3"));             // any rate, mono or stereo
 * Audio at48k  = Resampler.resample(prompt.mono(), 48_000);         // torchaudio.functional.resample's default filter
 * AudioIO.write(Path.of("song.flac"), song, AudioFormat.FLAC);      // atomic: temp file, then rename
 * }</pre>
 *
 * <p>The container is recognised from the file's first bytes, never from its name: RIFF/RF64 WAVE, {@code fLaC}, or MPEG audio
 * (an {@code ID3} tag or a frame sync). Supported: WAV PCM 8/16/24/32-bit, IEEE float 32/64-bit, WAVE_FORMAT_EXTENSIBLE; FLAC
 * (any bit depth the decoder accepts); MP3 (MPEG-1 Layer III). Samples come back as floats with torchaudio's scaling.
 */
public final class AudioIO {
    private AudioIO() {}

    /** The containers {@link #read} recognises. */
    public enum Container { WAV, FLAC, MP3, UNKNOWN }

    /** Reads a whole file. Errors are {@link AudioFileException}s naming the file and what was expected. */
    public static Audio read(Path file) throws IOException { return read(file, Double.POSITIVE_INFINITY); }

    /**
     * Reads at most the first {@code maxSeconds} of a file (the rest is not decoded), in memory bounded by what is kept: for a
     * prompt of which only the first seconds are used. Buffers grow with the samples actually decoded, never from a size a header
     * declares.
     */
    public static Audio read(Path file, double maxSeconds) throws IOException {
        if (!(maxSeconds > 0)) throw new IllegalArgumentException("maxSeconds must be > 0, got " + maxSeconds);
        Objects.requireNonNull(file, "file");
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "audio file not found");
        if (!Files.isRegularFile(file)) throw new AudioFileException(file, "not a regular file");
        Audio audio = switch (detect(file)) {
            case WAV -> WavCodec.read(file, maxSeconds);
            case FLAC -> FlacCodec.read(file, maxSeconds);
            case MP3 -> Mp3Codec.read(file, maxSeconds);
            case UNKNOWN -> throw new AudioFileException(file, "not an audio file bloom4j can read: expected WAV (RIFF/RF64), FLAC "
                    + "('fLaC') or MP3 (ID3 tag or MPEG frame sync) content" + (Files.size(file) == 0 ? " (the file is empty)" : ""));
        };
        String bad = nonFinite(audio);
        if (bad != null) {
            throw new AudioFileException(file, "the samples contain " + bad + " (a float WAV holding NaN or infinity): expected finite "
                    + "samples");
        }
        return audio;
    }

    /** Frames in {@code maxSeconds} at {@code rate}, rounded up; {@code Long.MAX_VALUE} for no limit. */
    static long frameLimit(double maxSeconds, int rate) {
        return Double.isInfinite(maxSeconds) ? Long.MAX_VALUE : (long) Math.ceil(maxSeconds * rate);
    }

    /** Where {@code audio} first holds NaN or an infinity, as a phrase ("NaN at channel 0, frame 12"), or null when all are finite. */
    static String nonFinite(Audio audio) {
        for (int c = 0; c < audio.channels(); c++) {
            float[] x = audio.channelView(c);
            for (int i = 0; i < x.length; i++) {
                if (!Float.isFinite(x[i])) {
                    return (Float.isNaN(x[i]) ? "NaN" : "an infinity") + " at channel " + c + ", frame " + i + " of " + x.length;
                }
            }
        }
        return null;
    }

    /** Writes {@code audio} in {@code format} to a temporary sibling of {@code file}, then renames it over {@code file}. */
    public static void write(Path file, Audio audio, AudioFormat format) throws IOException {
        Objects.requireNonNull(audio, "audio");
        Objects.requireNonNull(format, "format");
        String bad = nonFinite(audio);
        if (bad != null) {
            // A model that diverged (or a NaN weight) must not leave a silent or clipped file that looks like a result.
            throw new AudioFileException(file, "refusing to write audio with " + bad + "; nothing was written");
        }
        long expected = switch (format) { // known exactly for WAV (header + samples); compressed sizes are not
            case WAV_PCM16 -> 44 + 2L * audio.frames() * audio.channels();
            case WAV_FLOAT32 -> 80 + 4L * audio.frames() * audio.channels();
            default -> -1;
        };
        AtomicFiles.write(file, expected, tmp -> {
            try {
                switch (format) {
                    case WAV_PCM16 -> WavCodec.write(tmp, audio, false);
                    case WAV_FLOAT32 -> WavCodec.write(tmp, audio, true);
                    case FLAC -> FlacCodec.write(tmp, audio);
                    case MP3 -> Mp3Codec.write(tmp, audio);
                }
            } catch (AudioFileException e) {
                throw e.file().equals(tmp) ? e.about(file) : e; // name the file the caller asked for, not the temporary
            }
        });
    }

    /** Writes in the format implied by the file's extension ({@link AudioFormat#forPath}). */
    public static void write(Path file, Audio audio) throws IOException { write(file, audio, AudioFormat.forPath(file)); }

    /** The container of a file, from its first bytes. */
    public static Container detect(Path file) throws IOException {
        byte[] h = new byte[12];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(h, 0, h.length);
        }
        if (n >= 12 && (ascii(h, 0, "RIFF") || ascii(h, 0, "RF64")) && ascii(h, 8, "WAVE")) return Container.WAV;
        if (n >= 4 && ascii(h, 0, "fLaC")) return Container.FLAC;
        if (n >= 3 && ascii(h, 0, "ID3")) return skipId3(file);
        if (n >= 2 && (h[0] & 0xFF) == 0xFF && (h[1] & 0xE0) == 0xE0) return Container.MP3;
        return Container.UNKNOWN;
    }

    /** After an ID3v2 tag comes either FLAC (rare, but tools write it) or MPEG audio. */
    private static Container skipId3(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] h = in.readNBytes(10);
            if (h.length < 10) return Container.UNKNOWN;
            long size = (h[6] & 0x7F) << 21 | (h[7] & 0x7F) << 14 | (h[8] & 0x7F) << 7 | (h[9] & 0x7F);
            long length = Files.size(file);
            if (10 + size >= length) {
                throw new AudioFileException(file, "starts with 'ID3' but its ID3v2 tag would be " + size + " bytes and the file has "
                        + length + ": not an MP3 file (a text file starting with 'ID3'?) or a truncated one");
            }
            in.skipNBytes(size);
            byte[] b = in.readNBytes(4);
            if (b.length == 4 && ascii(b, 0, "fLaC")) {
                throw new AudioFileException(file, "FLAC stream behind an ID3v2 tag: remove the tag (e.g. 'metaflac "
                        + "--remove-all-tags' after 'id3v2 -D'), bloom4j's FLAC decoder expects 'fLaC' at the start");
            }
            return Container.MP3;
        }
    }

    private static boolean ascii(byte[] b, int at, String s) {
        for (int i = 0; i < s.length(); i++) if (b[at + i] != s.charAt(i)) return false;
        return true;
    }
}
