package bloom4j.tensor.audio;

import java.io.IOException;
import java.nio.file.Path;

/** An audio file that cannot be read or written as asked; the message starts with the file and says what was expected. */
public class AudioFileException extends IOException {
    private final Path file;

    public AudioFileException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public AudioFileException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    public Path file() { return file; }
}
