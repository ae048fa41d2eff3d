package bloom4j.tensor.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Free-space checks before large writes, and disk-full errors that say where and how much: the JDK's own
 * {@code IOException: No space left on device} names neither the file nor the size.
 */
public final class DiskSpace {
    private DiskSpace() {}

    /** Margin kept free beyond a write's own size (file-system metadata, other writers). */
    static final long MARGIN_BYTES = 16L << 20;

    /**
     * Fails before any work if {@code dir}'s file system has less than {@code bytes} (plus a small margin) free.
     *
     * @param what the result being written, for the message (a file or folder name)
     */
    public static void require(Path dir, long bytes, String what) throws DiskFullException {
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null || bytes <= 0) return;
        long free = usable(existing);
        if (free >= 0 && free < bytes + MARGIN_BYTES) {
            throw new DiskFullException(String.format(Locale.ROOT, "not enough disk space for %s: it needs %s and %s has %s free; "
                    + "free some space or write elsewhere", what, human(bytes), existing, human(free)), existing, bytes, free, null);
        }
    }

    /** Whether an exception (or its cause) is the operating system saying the disk or quota is full. */
    public static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DiskFullException) return true;
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded")
                    || m.contains("There is not enough space on the disk"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code e} itself, or, if it is a disk-full error, a {@link DiskFullException} naming {@code target}, the bytes needed
     * ({@code bytesNeeded}, -1 if unknown) and the space free now.
     */
    public static IOException explain(IOException e, Path target, long bytesNeeded) {
        if (e instanceof DiskFullException || !isDiskFull(e)) return e;
        Path dir = target.toAbsolutePath().getParent();
        long free = dir == null ? -1 : usable(dir);
        String need = bytesNeeded > 0 ? "it needs " + human(bytesNeeded) : "its size was not known in advance";
        String have = free >= 0 ? human(free) + " free" : "no free space";
        return new DiskFullException(String.format(Locale.ROOT, "disk full while writing %s: %s and %s has %s; nothing was "
                + "written under that name (any earlier file there is intact)", target, need, dir, have), target, bytesNeeded, free, e);
    }

    private static long usable(Path p) {
        try {
            return Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Bytes as {@code "1,234,567 bytes (1.2 MB)"}. */
    public static String human(long bytes) {
        String unit;
        double v;
        if (bytes >= 1L << 30) { v = bytes / (double) (1L << 30); unit = "GiB"; }
        else if (bytes >= 1L << 20) { v = bytes / (double) (1L << 20); unit = "MiB"; }
        else if (bytes >= 1L << 10) { v = bytes / (double) (1L << 10); unit = "KiB"; }
        else return String.format(Locale.ROOT, "%,d bytes", bytes);
        return String.format(Locale.ROOT, "%,d bytes (%.1f %s)", bytes, v, unit);
    }
}
