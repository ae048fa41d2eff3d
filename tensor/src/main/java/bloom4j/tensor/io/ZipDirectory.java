package bloom4j.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The central directory of a zip archive, read over a {@link FileChannel}: the end-of-central-directory record (and its ZIP64
 * record, used for archives over 4 GiB), then one entry per file with its sizes and local-header offset.
 *
 * <p>{@code java.util.zip.ZipInputStream} cannot read {@code torch.save} archives (it rejects STORED entries with data descriptors)
 * and {@code ZipFile} offers no data offsets to memory-map; this reader gives both. Every offset and length read from the file is
 * checked against the file size before it is used, so a corrupt archive gives a {@link CheckpointException}, never a huge
 * allocation.
 */
final class ZipDirectory {

    /** One file of the archive, as the central directory describes it. */
    record Entry(String name, int method, int flags, int crc, long compressedSize, long size, long localHeaderOffset) {
        boolean stored() { return method == 0; }
    }

    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int EOCD_SIZE = 22;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    private static final int MAX_COMMENT = 0xFFFF;

    /** Largest central directory read into memory (about 3 million entries; torch writes one per storage). */
    private static final long MAX_DIRECTORY_BYTES = 256L << 20;

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final Map<String, Entry> entries;

    private ZipDirectory(Path file, FileChannel channel, long fileSize, Map<String, Entry> entries) {
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        this.entries = entries;
    }

    /** Reads the central directory of the archive open on {@code channel}. */
    static ZipDirectory read(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        int tailLen = (int) Math.min(size, EOCD_SIZE + MAX_COMMENT);
        if (tailLen < EOCD_SIZE) throw new CheckpointException(file, "zip archive too short (" + size + " bytes)");
        ByteBuffer tail = readAt(file, channel, size - tailLen, tailLen);
        int at = -1;
        for (int i = tailLen - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD && i + EOCD_SIZE + (tail.getShort(i + 20) & 0xFFFF) <= tailLen) {
                at = i;
                break;
            }
        }
        if (at < 0) throw new CheckpointException(file, "no zip end-of-central-directory record: truncated or not a zip archive");
        long eocdPos = size - tailLen + at;
        long count = tail.getShort(at + 10) & 0xFFFF;
        long dirSize = tail.getInt(at + 12) & 0xFFFFFFFFL;
        long dirOffset = tail.getInt(at + 16) & 0xFFFFFFFFL;
        long dirLimit = eocdPos;

        if (eocdPos >= 20) {
            ByteBuffer loc = readAt(file, channel, eocdPos - 20, 20);
            if (loc.getInt(0) == ZIP64_LOCATOR) {
                long z64 = loc.getLong(8);
                if (z64 < 0 || z64 > eocdPos - 20 - 56) {
                    throw new CheckpointException(file, "corrupt zip: ZIP64 end record offset " + z64 + " outside the file");
                }
                ByteBuffer rec = readAt(file, channel, z64, 56);
                if (rec.getInt(0) != ZIP64_EOCD) throw new CheckpointException(file, "corrupt zip: no ZIP64 end record at " + z64);
                count = rec.getLong(32);
                dirSize = rec.getLong(40);
                dirOffset = rec.getLong(48);
                dirLimit = z64;
            }
        }
        if (dirOffset < 0 || dirSize < 0 || dirOffset > dirLimit || dirSize > dirLimit - dirOffset) {
            throw new CheckpointException(file, "corrupt zip: central directory (offset " + dirOffset + ", " + dirSize
                    + " bytes) lies outside the file");
        }
        if (count < 0 || count > dirSize / CENTRAL_SIZE) {
            throw new CheckpointException(file, "corrupt zip: " + count + " entries cannot fit in a " + dirSize + "-byte directory");
        }
        if (dirSize > MAX_DIRECTORY_BYTES) {
            throw new CheckpointException(file, "zip central directory of " + dirSize + " bytes is larger than supported");
        }
        ByteBuffer dir = readAt(file, channel, dirOffset, (int) dirSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p > dirSize - CENTRAL_SIZE || dir.getInt(p) != CENTRAL_HEADER) {
                throw new CheckpointException(file, "corrupt zip: central directory entry " + i + " is missing or damaged");
            }
            int flags = dir.getShort(p + 8) & 0xFFFF;
            int method = dir.getShort(p + 10) & 0xFFFF;
            int crc = dir.getInt(p + 16);
            long csize = dir.getInt(p + 20) & 0xFFFFFFFFL;
            long usize = dir.getInt(p + 24) & 0xFFFFFFFFL;
            int nameLen = dir.getShort(p + 28) & 0xFFFF;
            int extraLen = dir.getShort(p + 30) & 0xFFFF;
            int commentLen = dir.getShort(p + 32) & 0xFFFF;
            long lho = dir.getInt(p + 42) & 0xFFFFFFFFL;
            int varStart = p + CENTRAL_SIZE;
            if ((long) varStart + nameLen + extraLen + commentLen > dirSize) {
                throw new CheckpointException(file, "corrupt zip: central directory entry " + i + " runs past the directory");
            }
            byte[] nameBytes = new byte[nameLen];
            dir.get(varStart, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);

            // ZIP64 extended information: the 8-byte values of exactly those fields saturated in the fixed header, in this order.
            int e = varStart + nameLen;
            int extraEnd = e + extraLen;
            while (e + 4 <= extraEnd) {
                int id = dir.getShort(e) & 0xFFFF;
                int len = dir.getShort(e + 2) & 0xFFFF;
                int q = e + 4;
                if (q + len > extraEnd) throw new CheckpointException(file, "corrupt zip: extra field of '" + name + "' overruns");
                if (id == 0x0001) {
                    int end = q + len;
                    if (usize == 0xFFFFFFFFL) { usize = zip64Field(file, dir, q, end, name); q += 8; }
                    if (csize == 0xFFFFFFFFL) { csize = zip64Field(file, dir, q, end, name); q += 8; }
                    if (lho == 0xFFFFFFFFL) { lho = zip64Field(file, dir, q, end, name); }
                }
                e += 4 + len;
            }
            if (lho > dirOffset - LOCAL_SIZE || csize > dirOffset || usize < 0) {
                throw new CheckpointException(file, "corrupt zip: entry '" + name + "' has offset " + lho + " and size " + csize
                        + " beyond the data area (" + dirOffset + " bytes)");
            }
            if (entries.put(name, new Entry(name, method, flags, crc, csize, usize, lho)) != null) {
                throw new CheckpointException(file, "zip archive holds '" + name + "' twice");
            }
            p = extraEnd + commentLen;
        }
        return new ZipDirectory(file, channel, size, Collections.unmodifiableMap(entries));
    }

    private static long zip64Field(Path file, ByteBuffer dir, int q, int end, String name) throws CheckpointException {
        if (q + 8 > end) throw new CheckpointException(file, "corrupt zip: ZIP64 extra field of '" + name + "' is too short");
        long v = dir.getLong(q);
        if (v < 0) throw new CheckpointException(file, "corrupt zip: ZIP64 value of '" + name + "' exceeds 2^63");
        return v;
    }

    Collection<Entry> entries() { return entries.values(); }

    /** The entry of that exact name, or null. */
    Entry get(String name) { return entries.get(name); }

    /**
     * The file position of an entry's data, from its local header (whose name and extra lengths may differ from the central
     * directory's: torch pads the local extra field so that data starts on a 64-byte boundary). Refuses compressed and encrypted
     * entries: {@code torch.save} stores every record uncompressed, so that storages can be memory-mapped.
     */
    long dataOffset(Entry e) throws IOException {
        if ((e.flags() & 1) != 0) throw new CheckpointException(file, "zip entry '" + e.name() + "' is encrypted");
        if (!e.stored()) {
            throw new CheckpointException(file, "zip entry '" + e.name() + "' is compressed (method " + e.method() + "); torch.save "
                    + "writes uncompressed entries - re-pack the archive without compression (zip -0) or re-save it with torch.save");
        }
        if (e.compressedSize() != e.size()) {
            throw new CheckpointException(file, "corrupt zip: stored entry '" + e.name() + "' has compressed size "
                    + e.compressedSize() + " but size " + e.size());
        }
        ByteBuffer h = readAt(file, channel, e.localHeaderOffset(), LOCAL_SIZE);
        if (h.getInt(0) != LOCAL_HEADER) {
            throw new CheckpointException(file, "corrupt zip: no local header for '" + e.name() + "' at " + e.localHeaderOffset());
        }
        long offset = e.localHeaderOffset() + LOCAL_SIZE + (h.getShort(26) & 0xFFFF) + (h.getShort(28) & 0xFFFF);
        if (offset > fileSize || e.size() > fileSize - offset) {
            throw new CheckpointException(file, "truncated zip: data of '" + e.name() + "' (" + e.size() + " bytes at " + offset
                    + ") runs past the end of the " + fileSize + "-byte file");
        }
        return offset;
    }

    /**
     * An entry's whole content on the heap, its CRC-32 verified (so a damaged pickle is reported as such); refuses entries larger
     * than {@code maxBytes}. Mapped entries are not verified: that would read gigabytes of weights up front.
     */
    byte[] readFully(Entry e, long maxBytes) throws IOException {
        if (e.size() > maxBytes) {
            throw new CheckpointException(file, "zip entry '" + e.name() + "' is " + e.size() + " bytes, more than the "
                    + maxBytes + " this reader loads into memory");
        }
        ByteBuffer b = readAt(file, channel, dataOffset(e), (int) e.size());
        byte[] out = new byte[b.remaining()];
        b.get(out);
        CRC32 crc = new CRC32();
        crc.update(out);
        if ((int) crc.getValue() != e.crc()) {
            throw new CheckpointException(file, String.format(Locale.ROOT,
                    "zip entry '%s' is damaged: CRC-32 %08x, directory says %08x", e.name(), (int) crc.getValue(), e.crc()));
        }
        return out;
    }

    /** Maps an entry's data read-only; a single entry must be under 2 GiB (a Java buffer limit). */
    ByteBuffer map(Entry e) throws IOException {
        long offset = dataOffset(e);
        if (e.size() > Integer.MAX_VALUE) {
            throw new CheckpointException(file, "zip entry '" + e.name() + "' is " + e.size() + " bytes; single records over 2 GiB "
                    + "are not supported");
        }
        if (e.size() == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        return channel.map(FileChannel.MapMode.READ_ONLY, offset, e.size()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads exactly {@code len} bytes at {@code pos}, refusing ranges past the end of the file. */
    static ByteBuffer readAt(Path file, FileChannel channel, long pos, int len) throws IOException {
        long size = channel.size();
        if (pos < 0 || len < 0 || pos > size || len > size - pos) {
            throw new CheckpointException(file, "truncated file: needs bytes " + pos + ".." + (pos + len) + " of a " + size
                    + "-byte file");
        }
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int n = channel.read(b, pos + b.position());
            if (n < 0) throw new CheckpointException(file, "unexpected end of file at " + (pos + b.position()));
        }
        return b.flip();
    }
}
