package bloom4j.tensor.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Atomic writes: leftovers of dead runs are removed, live ones kept, and a full disk is reported with path and size. */
class AtomicFilesTest {
    @TempDir Path tmp;

    /** A process id that is not running: well above any pid_max (2^22) and not alive. */
    static long deadPid() {
        long pid = 1L << 30;
        while (ProcessHandle.of(pid).isPresent()) pid++;
        return pid;
    }

    List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void partialsOfDeadAndEarlierRunsAreRemovedAndLiveOnesKept() throws Exception {
        long dead = deadPid(), me = ProcessHandle.current().pid();
        Files.writeString(tmp.resolve(".song.wav.partial-" + dead + "-abc"), "x");
        Files.createDirectories(tmp.resolve(".model.partial-" + dead + "-q1").resolve("inner"));
        Files.writeString(tmp.resolve(".song.wav.partial-" + me + "-live"), "x");   // this run's own temporary
        Files.writeString(tmp.resolve(".a.meta.json.5719922.partial"), "x");        // Files.createTempFile names (earlier versions)
        Files.createDirectories(tmp.resolve(".model.partial-123456"));             // earlier staging folders
        Files.writeString(tmp.resolve(".vq.resume.safetensors.1f2e3d.tmp"), "x");   // earlier safetensors temporaries
        Files.writeString(tmp.resolve("keep.partial"), "not hidden: the user's");
        Files.writeString(tmp.resolve(".hidden-notes.tmp"), "not ours");
        assertEquals(5, AtomicFiles.removeStalePartials(tmp));
        assertEquals(List.of(".hidden-notes.tmp", ".song.wav.partial-" + me + "-live", "keep.partial"), names());
    }

    @Test
    void removeStaleOnlyTouchesOneName() throws Exception {
        long dead = deadPid();
        Files.writeString(tmp.resolve(".a.wav.partial-" + dead + "-1"), "x");
        Files.writeString(tmp.resolve(".b.wav.partial-" + dead + "-1"), "x");
        assertEquals(1, AtomicFiles.removeStale(tmp.resolve("a.wav")));
        assertEquals(List.of(".b.wav.partial-" + dead + "-1"), names());
    }

    @Test
    void aStagingFolderReplacesTheLeftoversOfAnInterruptedConversion() throws Exception {
        Path old = tmp.resolve(".model.partial-" + deadPid() + "-x");
        Files.createDirectories(old);
        Files.write(old.resolve("model.safetensors"), new byte[1000]);
        Path staging = AtomicFiles.stagingDirFor(tmp.resolve("model"));
        assertFalse(Files.exists(old));
        assertTrue(staging.getFileName().toString().startsWith(".model.partial-" + ProcessHandle.current().pid() + "-"));
    }

    @Test
    void aFullDiskNamesTheFileAndTheBytesAndLeavesTheOldFileIntact() throws Exception {
        Path target = tmp.resolve("song.wav");
        Files.writeString(target, "old");
        DiskFullException e = assertThrows(DiskFullException.class, () -> AtomicFiles.write(target, 123_456, f -> {
            Files.write(f, new byte[10]);
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("123,456 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("free"), e.getMessage());
        assertEquals(123_456, e.bytesNeeded());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("song.wav"), names());
    }

    @Test
    void otherIoErrorsPassThroughUnchanged() {
        IOException boom = new IOException("permission denied");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(tmp.resolve("x"), f -> { throw boom; }));
        assertTrue(e == boom);
    }

    @Test
    void aWriteLargerThanTheFreeSpaceIsRefusedBeforeAnyWork() throws Exception {
        boolean[] ran = {false};
        DiskFullException e = assertThrows(DiskFullException.class,
                () -> AtomicFiles.write(tmp.resolve("huge.bin"), Long.MAX_VALUE / 4, f -> ran[0] = true));
        assertFalse(ran[0]);
        assertTrue(e.getMessage().startsWith("not enough disk space for " + tmp.resolve("huge.bin")), e.getMessage());
        assertTrue(e.getMessage().contains("GiB"), e.getMessage());
        assertEquals(List.of(), names());
    }

    @Test
    void writtenFilesAreReadableByOthers() throws Exception {
        Path f = tmp.resolve("a.txt");
        AtomicFiles.writeString(f, "hi");
        assertEquals("hi", Files.readString(f));
        if (Files.getFileStore(f).supportsFileAttributeView("posix")) {
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        }
    }

    @Test
    void aZombieCountsAsGoneAndALiveProcessAsRunning() throws Exception {
        assertTrue(AtomicFiles.running(ProcessHandle.current().pid()));
        assertFalse(AtomicFiles.running(deadPid()));
        Process p = new ProcessBuilder("sh", "-c", "exit 0").start();
        long pid = p.pid();
        // an exited child is a zombie until reaped (the JDK's reaper does it soon): whichever it is now, it is not running
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        for (int i = 0; i < 200; i++) {
            try {
                if (Files.readString(stat).contains(") Z")) break;
            } catch (IOException gone) {
                break;
            }
            Thread.sleep(10);
        }
        assertFalse(AtomicFiles.running(pid));
        p.waitFor();
    }
}
