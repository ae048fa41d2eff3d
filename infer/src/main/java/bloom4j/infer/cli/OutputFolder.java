package bloom4j.infer.cli;

import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Sha256;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The folder a {@code generate} run writes into, held for the run: a lock refuses a second concurrent run on it, leftovers of an
 * interrupted run are removed, and every output has a sidecar {@code <file>.json} with the parameters that made it and the
 * checksum of the audio. A rerun skips outputs already complete with the same parameters and refuses to replace one made with
 * other parameters (or by hand) unless asked to overwrite.
 */
final class OutputFolder implements AutoCloseable {
    static final String LOCK_FILE = ".bloom4j-generate.lock";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private OutputFolder(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Creates (if needed) and locks {@code dir}, then removes partial files a dead earlier run left there. Fails if it is a file,
     * not writable, or locked by another run.
     */
    static OutputFolder open(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--output-dir " + dir + " is a file, not a folder");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("--output-dir " + dir + ": cannot create the folder (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) throw new IllegalArgumentException("--output-dir " + dir + ": the folder is not writable");
        Path lockFile = dir.resolve(LOCK_FILE);
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            String holder = new String(Files.readAllBytes(lockFile), StandardCharsets.UTF_8).trim();
            ch.close();
            throw new IllegalStateException("--output-dir " + dir + " is in use by another bloom4j generate run"
                    + (holder.isEmpty() ? "" : " (" + holder + ")") + "; wait for it to finish or choose another folder");
        }
        ch.truncate(0);
        ch.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        int removed = AtomicFiles.removeStalePartials(dir);
        if (removed > 0) System.err.println("removed " + removed + " partial file(s) an interrupted run left in " + dir);
        return new OutputFolder(dir, ch, l);
    }

    Path dir() { return dir; }

    /** Where a planned output stands. */
    enum State { TODO, DONE, CONFLICT }

    /** One output, the parameters that define it, and what the folder already holds for it. */
    record Planned(Path file, Map<String, String> params, State state, String why) { }

    static Path sidecar(Path audio) { return audio.resolveSibling(audio.getFileName() + ".json"); }

    /** Compares {@code file}'s sidecar with {@code params}: complete and equal is DONE; absent is TODO; anything else CONFLICT. */
    Planned plan(Path file, Map<String, String> params) throws IOException {
        Path side = sidecar(file);
        boolean audio = Files.exists(file), hasSide = Files.exists(side);
        if (!audio && !hasSide) return new Planned(file, params, State.TODO, null);
        if (!audio) return new Planned(file, params, State.TODO, null); // a sidecar alone: its audio was deleted, so make it again
        if (!hasSide) {
            return new Planned(file, params, State.CONFLICT, "exists and has no " + side.getFileName()
                    + " saying which parameters made it");
        }
        Map<String, String> old;
        try {
            old = JSON.readValue(side.toFile(), new TypeReference<LinkedHashMap<String, String>>() { });
        } catch (IOException e) {
            return new Planned(file, params, State.CONFLICT, side.getFileName() + " is not readable (" + e.getMessage() + ")");
        }
        Map<String, String> oldParams = new LinkedHashMap<>(old);
        String sha = oldParams.remove("audio_sha256");
        String bytes = oldParams.remove("audio_bytes");
        if (!oldParams.equals(params)) {
            TreeSet<String> diff = new TreeSet<>(params.keySet());
            diff.addAll(oldParams.keySet());
            diff.removeIf(k -> java.util.Objects.equals(params.get(k), oldParams.get(k)));
            List<String> parts = new ArrayList<>();
            for (String k : diff) parts.add(k + " " + show(oldParams.get(k)) + " -> " + show(params.get(k)));
            return new Planned(file, params, State.CONFLICT, "was made with other parameters (" + String.join(", ", parts) + ")");
        }
        if (bytes == null || Long.parseLong(bytes) != Files.size(file) || !Sha256.of(file).equals(sha)) {
            return new Planned(file, params, State.CONFLICT, "does not match the checksum in " + side.getFileName()
                    + " (changed or truncated)");
        }
        return new Planned(file, params, State.DONE, null);
    }

    private static String show(String v) {
        if (v == null) return "(none)";
        return v.length() > 24 ? v.substring(0, 12) + "…" : v;
    }

    /** Records a written output: its parameters, size and checksum. Written after the audio, atomically. */
    void recordDone(Planned p) throws IOException {
        Map<String, String> m = new LinkedHashMap<>(p.params());
        m.put("audio_bytes", Long.toString(Files.size(p.file())));
        m.put("audio_sha256", Sha256.of(p.file()));
        AtomicFiles.writeString(sidecar(p.file()), JSON.writeValueAsString(m) + "\n");
    }

    @Override public void close() throws IOException {
        try {
            if (lock.isValid()) lock.release();
        } finally {
            lockChannel.close();
        }
    }
}
