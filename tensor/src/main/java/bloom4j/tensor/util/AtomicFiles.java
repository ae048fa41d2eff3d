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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes that never leave a half-written result under the final name: write to a temporary sibling, then rename. An interrupted
 * run leaves at most a hidden {@code .NAME.partial-PID-RANDOM} sibling, which is never mistaken for the result and which the next
 * run of the same command removes ({@link #removeStale}, {@link #removeStalePartials}): the process id in the name tells a
 * leftover of a dead run from the work of a live one.
 *
 * <p>A write that runs out of disk space fails with a {@link DiskFullException} naming the file and the bytes it needed.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    private static final String PARTIAL = ".partial-";
    /** Names this class makes now: {@code .NAME.partial-PID-RANDOM}. */
    private static final Pattern CURRENT = Pattern.compile("^\\..+\\.partial-(\\d+)-[0-9a-z]+$");
    /** Names earlier bloom4j versions made (no process id): {@code .NAME.123.partial}, {@code .NAME.partial-123}, {@code .NAME.ab12.tmp}. */
    private static final Pattern LEGACY = Pattern.compile("^\\..+(\\.-?\\d+\\.partial|\\d+\\.partial|\\.partial-\\d+|\\.[0-9a-f]+\\.tmp)$");

    /** Writes text to {@code target} atomically (temp file in the same folder, then rename over it). */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, bytes.length, tmp -> Files.write(tmp, bytes));
    }

    /** Writes bytes to {@code target} atomically. */
    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, bytes.length, tmp -> Files.write(tmp, bytes));
    }

    /**
     * A new empty temporary sibling of {@code target}, {@code .NAME.partial-PID-RANDOM}, with default permissions; the caller
     * renames it over the target (see {@link #commit}) or deletes it.
     */
    public static Path tempSibling(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        for (int attempt = 0; ; attempt++) {
            Path tmp = abs.resolveSibling(partialName(abs.getFileName().toString()));
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) throw e;
            }
        }
    }

    private static String partialName(String name) {
        return "." + name + PARTIAL + ProcessHandle.current().pid() + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    }

    /** Renames a finished temporary sibling over {@code target} (0644, atomic, replacing). */
    public static void commit(Path tmp, Path target) throws IOException {
        makeReadable(tmp, "rw-r--r--");
        move(tmp, target.toAbsolutePath(), true);
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
        write(target, -1, writer);
    }

    /**
     * {@link #write(Path, FileWriter)} for a result of about {@code expectedBytes} (or -1 if unknown): checked against the free
     * space first, and named in the error if the disk fills up anyway.
     */
    public static void write(Path target, long expectedBytes, FileWriter writer) throws IOException {
        if (expectedBytes > 0) DiskSpace.require(target.toAbsolutePath().getParent(), expectedBytes, target.toString());
        Path tmp = tempSibling(target);
        try {
            writer.write(tmp);
            commit(tmp, target);
        } catch (IOException e) {
            IOException named = DiskSpace.explain(e, target, expectedBytes > 0 ? expectedBytes : sizeOrZero(tmp));
            Files.deleteIfExists(tmp);
            throw named;
        } catch (RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Removes what an interrupted earlier run left of {@code target}: temporary siblings ({@code .NAME.partial-…} files or
     * folders) whose process is gone, and those of earlier bloom4j versions. A live run's temporaries are kept. Returns how many
     * were removed.
     */
    public static int removeStale(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        return removeStale(abs.getParent(), "." + abs.getFileName() + ".");
    }

    /** {@link #removeStale} for every name in {@code dir} (a command's own output folder). */
    public static int removeStalePartials(Path dir) throws IOException {
        return removeStale(dir.toAbsolutePath(), ".");
    }

    /**
     * Whether process {@code pid} is running. A process killed a moment ago can linger as a zombie until its parent reaps it; it
     * writes nothing more, so it counts as gone ({@code /proc/PID/stat} state Z or X on Linux).
     */
    static boolean running(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) return false;
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : 'R';
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return true; // no procfs: trust ProcessHandle
        }
    }

    private static int removeStale(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> {
                String n = p.getFileName().toString();
                if (!n.startsWith(prefix)) return;
                Matcher m = CURRENT.matcher(n);
                if (m.matches()) {
                    long pid = Long.parseLong(m.group(1));
                    if (!running(pid)) stale.add(p);
                } else if (LEGACY.matcher(n).matches()) {
                    stale.add(p);
                }
            });
        }
        for (Path p : stale) deleteTree(p);
        return stale.size();
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
        removeStale(abs);
        return newStagingDir(abs);
    }

    /** A new, readable folder with a temporary name beside {@code abs}. */
    private static Path newStagingDir(Path abs) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path staging = abs.resolveSibling(partialName(abs.getFileName().toString()));
            try {
                Files.createDirectory(staging);
                makeReadable(staging, "rwxr-xr-x");
                return staging;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) throw e;
            }
        }
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

    /**
     * A fresh temporary folder next to {@code target} for a result that replaces the previous one (a run's {@code last/}); publish it
     * with {@link #replaceDir}.
     */
    public static Path stagingDirForReplacing(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        return newStagingDir(abs);
    }

    /**
     * Puts the finished {@code staging} folder in place of {@code target}: the old folder is first renamed to a temporary name (so an
     * interruption leaves either the old or the new folder, plus a leftover the next run's {@link #removeStalePartials} deletes),
     * then the new one renamed to {@code target}, then the old one deleted.
     */
    public static void replaceDir(Path staging, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path old = null;
        if (Files.exists(abs)) {
            old = abs.resolveSibling(partialName(abs.getFileName().toString()));
            move(abs, old, false);
        }
        move(staging, abs, false);
        deleteTree(old);
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
