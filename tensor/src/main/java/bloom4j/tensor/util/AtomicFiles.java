package bloom4j.tensor.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes that never leave a half-written result under the final name: write to a temporary sibling, then rename. An interrupted
 * run leaves at most a {@code .partial} sibling, which is never mistaken for the result.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes text to {@code target} atomically (temp file in the same folder, then rename over it). */
    public static void writeString(Path target, String text) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            makeReadable(tmp, "rw-r--r--");
            move(tmp, target, true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Writes a file through a path, for writers that need one (codecs that seek, libraries that open the file themselves). */
    @FunctionalInterface
    public interface FileWriter {
        void write(Path file) throws IOException;
    }

    /**
     * Runs {@code writer} on a temporary sibling of {@code target} (created empty, private), then renames it over {@code target}
     * with the usual 0644 permissions. On failure the temporary file is deleted and {@code target} is left as it was.
     */
    public static void write(Path target, FileWriter writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial");
        try {
            writer.write(tmp);
            makeReadable(tmp, "rw-r--r--");
            move(tmp, target.toAbsolutePath(), true);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * A fresh temporary folder next to {@code target} to build a folder result in; publish it with {@link #publishDir}.
     * Fails if {@code target} exists and is not an empty folder: results are never overwritten in place.
     */
    public static Path stagingDirFor(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) throw new FileAlreadyExistsException(abs + " exists and is not a folder");
            try (Stream<Path> s = Files.list(abs)) {
                if (s.findAny().isPresent()) {
                    throw new FileAlreadyExistsException(abs + " already exists and is not empty; choose another output folder"
                            + " or delete it first (bloom4j never overwrites a model in place)");
                }
            }
        }
        Files.createDirectories(abs.getParent());
        Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".partial-");
        makeReadable(staging, "rwxr-xr-x");
        return staging;
    }

    /**
     * Temp files and folders are created private (0600/0700); a published result gets the usual 0644/0755 instead, so other users
     * and services can read a model folder.
     */
    public static void makeReadable(Path p, String posixPermissions) throws IOException {
        if (Files.getFileStore(p).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(posixPermissions));
        }
    }

    /** Renames the finished staging folder to {@code target} (an empty {@code target} folder is replaced). */
    public static void publishDir(Path staging, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            try {
                Files.delete(abs);
            } catch (DirectoryNotEmptyException e) {
                throw new FileAlreadyExistsException(abs + " was filled while converting; result left in " + staging);
            }
        }
        move(staging, abs, false);
    }

    /** Deletes a staging folder after a failure (best effort). */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a leftover .partial folder is harmless and clearly named
        }
    }

    private static void move(Path from, Path to, boolean replace) throws IOException {
        try {
            if (replace) Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            else Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically (different file systems?)", e);
        }
    }
}
