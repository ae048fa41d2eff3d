package bloom4j.tensor.io;

import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.SafeTensorsHeader.Entry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A single {@code .safetensors} file, read lazily: {@link #open} reads and validates only the header (exactly as the reference
 * reader does, see {@link SafeTensorsHeader#parse}); {@link #raw} maps the data section on first use and returns the asked-for
 * tensor as a slice of the mapping, so only that tensor is copied when it is turned into an ND4J array.
 *
 * <p>A mapping holds at most 2 GiB − 1 bytes, so the data section is mapped in windows: window k starts at k GiB and spans up to
 * 2 GiB − 1, so every tensor under 1 GiB lies whole in the window of its first byte; a larger tensor gets a mapping of its own.
 * Files of any size can be read this way; a single tensor must stay under 2 GiB, the limit of {@link RawTensor}'s buffer.
 *
 * <p>Thread-safe: tensors may be read concurrently.
 */
public final class SafeTensorsFile implements TensorSource {

    private static final long WINDOW_STRIDE = 1L << 30;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataSize;
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries;
    private final List<String> names;
    private final MappedByteBuffer[] windows;
    private boolean closed;

    private SafeTensorsFile(Path file, FileChannel channel, long dataStart, long dataSize, SafeTensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
        this.metadata = header.metadata() == null ? Map.of() : header.metadata();
        this.entries = new HashMap<>();
        List<String> order = new ArrayList<>(header.entries().size());
        for (Entry e : header.entries()) {
            entries.put(e.name(), e);
            order.add(e.name());
        }
        this.names = Collections.unmodifiableList(order);
        this.windows = new MappedByteBuffer[(int) ((dataSize + WINDOW_STRIDE - 1) / WINDOW_STRIDE)];
    }

    /** Opens a file and validates its header; no tensor data is read. */
    public static SafeTensorsFile open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file, "is a directory, not a .safetensors file (SafeTensors.open reads model directories)");
        }
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, len, 0);
            long n = len.getLong(0);
            if (n < 0 || n > SafeTensorsHeader.MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                        + SafeTensorsHeader.MAX_HEADER_BYTES + " bytes");
            }
            if (n > size - 8) {
                throw new CheckpointException(file, "header length " + n + " runs past the end of the file (" + (size - 8)
                        + " bytes follow the length)");
            }
            byte[] json = new byte[(int) n];
            readFully(file, ch, ByteBuffer.wrap(json), 8);
            SafeTensorsHeader header = SafeTensorsHeader.parse(file, json, size - 8 - n);
            return new SafeTensorsFile(file, ch, 8 + n, size - 8 - n, header);
        } catch (IOException | RuntimeException | Error e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) throw new CheckpointException(file, "file ended at byte " + pos + " while reading its header (truncated?)");
            pos += n;
        }
    }

    /** The file's path. */
    public Path path() { return file; }

    /** The {@code __metadata__} string map in header order (empty when the file has none). */
    public Map<String, String> metadata() { return metadata; }

    @Override public String description() { return file.toString(); }

    /** Tensor names in data-offset order. */
    @Override public List<String> names() { return names; }

    @Override public boolean contains(String name) { return entries.containsKey(name); }

    @Override public TensorInfo info(String name) throws IOException {
        Entry e = entry(name);
        return new TensorInfo(name, e.dtype(), e.shape());
    }

    @Override public RawTensor raw(String name) throws IOException {
        Entry e = entry(name);
        return new RawTensor(e.dtype(), e.shape(), slice(name, e.begin(), e.byteSize()));
    }

    private Entry entry(String name) throws CheckpointException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(file, "no tensor named " + SafeTensorsHeader.quote(name) + " (the file has " + entries.size()
                    + " tensors)");
        }
        return e;
    }

    /** The bytes {@code [begin, begin + length)} of the data section, as a slice of a window or of a mapping of their own. */
    private ByteBuffer slice(String name, long begin, long length) throws IOException {
        if (length == 0) return ByteBuffer.allocate(0);
        if (length > Integer.MAX_VALUE) {
            throw new CheckpointException(file, "tensor " + SafeTensorsHeader.quote(name) + " is " + length
                    + " bytes; a single tensor over 2 GiB - 1 byte cannot be loaded into one buffer");
        }
        int k = (int) (begin / WINDOW_STRIDE);
        long offset = begin - k * WINDOW_STRIDE;
        MappedByteBuffer w = window(k);
        if (offset + length <= w.capacity()) return w.slice((int) offset, (int) length);
        synchronized (this) {
            ensureOpen();
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, length);
        }
    }

    private synchronized MappedByteBuffer window(int k) throws IOException {
        ensureOpen();
        if (windows[k] == null) {
            long start = k * WINDOW_STRIDE;
            windows[k] = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + start, Math.min(Integer.MAX_VALUE, dataSize - start));
        }
        return windows[k];
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(file + " is closed");
    }

    /** Closes the file. Buffers already returned by {@link #raw} stay readable (Java unmaps a mapping only when it is collected). */
    @Override public synchronized void close() throws IOException {
        closed = true;
        Arrays.fill(windows, null);
        channel.close();
    }

    @Override public String toString() { return "SafeTensorsFile[" + file + ", " + names.size() + " tensors]"; }
}
