package bloom4j.tensor.util;

import java.io.IOException;
import java.nio.file.Path;

/** A write that did not fit on its file system: names the file, the bytes it needed and what was free. */
public final class DiskFullException extends IOException {
    private final Path path;
    private final long bytesNeeded;
    private final long bytesFree;

    public DiskFullException(String message, Path path, long bytesNeeded, long bytesFree, Throwable cause) {
        super(message, cause);
        this.path = path;
        this.bytesNeeded = bytesNeeded;
        this.bytesFree = bytesFree;
    }

    public Path path() { return path; }

    /** What the write needed in all, or -1 if unknown. */
    public long bytesNeeded() { return bytesNeeded; }

    /** What the file system had free when the error was raised, or -1 if it could not be read. */
    public long bytesFree() { return bytesFree; }
}
