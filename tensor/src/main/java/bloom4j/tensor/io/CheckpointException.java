package bloom4j.tensor.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint or tensor file that cannot be read as it claims to be: wrong magic, truncated, corrupt header, offsets past the end,
 * a shape that does not match its data, a forbidden pickle global. The message always names the file and what was wrong.
 */
public class CheckpointException extends IOException {
    private final transient Path file;

    public CheckpointException(Path file, String what) {
        super(file + ": " + what);
        this.file = file;
    }

    public CheckpointException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
        this.file = file;
    }

    /** The file the problem was found in. */
    public Path file() { return file; }
}
