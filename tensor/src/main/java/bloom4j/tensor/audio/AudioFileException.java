package bloom4j.tensor.audio;

import java.io.IOException;
import java.nio.file.Path;

/** An audio file that cannot be read or written as asked; the message starts with the file and says what was expected. */
public class AudioFileException extends IOException {
    private final Path file;
    private final String reason;

    public AudioFileException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
        this.reason = message;
    }

    public AudioFileException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
        this.reason = message;
    }

    public Path file() { return file; }

    /** The message without the file name. */
    public String reason() { return reason; }

    /** The same error about another path (a temporary file's error reported against the file the user named). */
    public AudioFileException about(Path other) {
        AudioFileException e = new AudioFileException(other, reason, getCause());
        e.setStackTrace(getStackTrace());
        return e;
    }
}
