package bloom4j.tensor.audio;

import java.nio.file.Path;
import java.util.Locale;

/** What {@link AudioIO#write} produces. Reading needs no format: {@link AudioIO#read} recognises the file's content. */
public enum AudioFormat {
    /** RIFF/WAVE, 16-bit signed PCM: {@code round(x·32768)} clamped to [-32768, 32767], the inverse of the reader's scaling. */
    WAV_PCM16("wav"),
    /** RIFF/WAVE, 32-bit IEEE float (format tag 3, with a {@code fact} chunk): the samples exactly. */
    WAV_FLOAT32("wav"),
    /** FLAC, 24-bit (what torchaudio/sox write for float input): lossless at 24 bits. */
    FLAC("flac"),
    /** MP3 (MPEG-1/2 Layer III, LAME), 320 kbit/s CBR for 32/44.1/48 kHz; at most 2 channels. */
    MP3("mp3");

    private final String extension;

    AudioFormat(String extension) { this.extension = extension; }

    /** The file extension, without the dot. */
    public String extension() { return extension; }

    /**
     * {@code wav} (16-bit), {@code wav16}, {@code wav-float} / {@code wav32f}, {@code flac} or {@code mp3}, case-insensitive;
     * the message lists the accepted names.
     */
    public static AudioFormat parse(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "wav": case "wav16": case "wav-pcm16": case "wav_pcm16": return WAV_PCM16;
            case "wav-float": case "wav32f": case "wav_float32": case "wav-float32": return WAV_FLOAT32;
            case "flac": return FLAC;
            case "mp3": return MP3;
            default: throw new IllegalArgumentException("unknown audio format '" + name + "': use wav, wav-float, flac or mp3");
        }
    }

    /** The format implied by a file name's extension ({@code .wav} gives 16-bit PCM). */
    public static AudioFormat forPath(Path path) {
        String n = path.getFileName().toString();
        int dot = n.lastIndexOf('.');
        if (dot < 0) throw new IllegalArgumentException(path + ": no extension to choose an audio format from (wav, flac or mp3)");
        return parse(n.substring(dot + 1));
    }
}
