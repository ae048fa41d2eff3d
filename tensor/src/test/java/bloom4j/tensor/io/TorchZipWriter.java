package bloom4j.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Test scaffolding: writes zip archives laid out like torch.save's (STORED entries, general-purpose flags 0x0808 with a data
 * descriptor, local "FB" extra fields padding data to 64 bytes), optionally with ZIP64 records for every entry, a sparse gap that
 * pushes later entries past 4 GiB, or DEFLATE-compressed entries.
 */
public final class TorchZipWriter {
    /** An entry: its bytes, or (data null) {@code sparseSize} unwritten zero bytes with a dummy CRC. */
    private record Item(String name, byte[] data, long sparseSize, long gapBefore) {
        long size() { return data == null ? sparseSize : data.length; }
    }

    private final List<Item> items = new ArrayList<>();
    private final Set<String> deflated = new HashSet<>();
    private boolean zip64;
    private long pendingGap;

    /** Adds an entry (full name, including the root folder). */
    public TorchZipWriter add(String name, byte[] data) {
        items.add(new Item(name, data, 0, pendingGap));
        pendingGap = 0;
        return this;
    }

    /** Adds an entry of {@code size} zero bytes left unwritten (a sparse region), for multi-gigabyte records; CRC not set. */
    TorchZipWriter addSparse(String name, long size) {
        items.add(new Item(name, null, size, pendingGap));
        pendingGap = 0;
        return this;
    }

    public TorchZipWriter add(String name, String text) { return add(name, text.getBytes(StandardCharsets.UTF_8)); }

    /** Leaves {@code bytes} of unwritten (sparse) space before the next entry. */
    TorchZipWriter gap(long bytes) {
        pendingGap = bytes;
        return this;
    }

    /** Writes ZIP64 sizes and offsets for every entry and a ZIP64 end record, as miniz does past 4 GiB. */
    TorchZipWriter zip64() {
        zip64 = true;
        return this;
    }

    TorchZipWriter deflate(String name) {
        deflated.add(name);
        return this;
    }

    public void write(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long pos = 0;
            ByteBuffer central = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Item it : items) {
                pos += it.gapBefore();
                byte[] name = it.name().getBytes(StandardCharsets.UTF_8);
                boolean deflate = deflated.contains(it.name());
                byte[] payload = it.data() == null ? null : deflate ? deflate(it.data()) : it.data();
                long csize = payload == null ? it.size() : payload.length;
                CRC32 crc = new CRC32();
                if (it.data() != null) crc.update(it.data());
                long lho = pos;
                int pad = (int) ((64 - (lho + 30 + name.length + 4) % 64) % 64);
                ByteBuffer local = ByteBuffer.allocate(30 + name.length + 4 + pad).order(ByteOrder.LITTLE_ENDIAN);
                local.putInt(0x04034b50).putShort((short) (zip64 ? 45 : 20)).putShort((short) 0x0808)
                        .putShort((short) (deflate ? 8 : 0)).putShort((short) 0).putShort((short) 0)
                        .putInt(0).putInt(0).putInt(0).putShort((short) name.length).putShort((short) (4 + pad)).put(name)
                        .put((byte) 'F').put((byte) 'B').putShort((short) pad);
                for (int i = 0; i < pad; i++) local.put((byte) 'Z');
                pos = put(ch, pos, local.flip());
                pos = payload == null ? pos + csize : put(ch, pos, ByteBuffer.wrap(payload));
                ByteBuffer dd = ByteBuffer.allocate(zip64 ? 24 : 16).order(ByteOrder.LITTLE_ENDIAN);
                dd.putInt(0x08074b50).putInt((int) crc.getValue());
                if (zip64) dd.putLong(csize).putLong(it.size());
                else dd.putInt((int) csize).putInt((int) it.size());
                pos = put(ch, pos, dd.flip());

                central.putInt(0x02014b50).putShort((short) 45).putShort((short) (zip64 ? 45 : 20)).putShort((short) 0x0808)
                        .putShort((short) (deflate ? 8 : 0)).putShort((short) 0).putShort((short) 0).putInt((int) crc.getValue());
                if (zip64) central.putInt(-1).putInt(-1);
                else central.putInt((int) csize).putInt((int) it.size());
                central.putShort((short) name.length).putShort((short) (zip64 ? 28 : 0)).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt(0).putInt(zip64 ? -1 : (int) lho).put(name);
                if (zip64) {
                    central.putShort((short) 1).putShort((short) 24).putLong(it.size()).putLong(csize).putLong(lho);
                }
            }
            long cdOffset = pos;
            central.flip();
            long cdSize = central.remaining();
            pos = put(ch, pos, central);
            ByteBuffer end = ByteBuffer.allocate(56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
            if (zip64) {
                long z64 = pos;
                end.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                        .putLong(items.size()).putLong(items.size()).putLong(cdSize).putLong(cdOffset);
                end.putInt(0x07064b50).putInt(0).putLong(z64).putInt(1);
            }
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0);
            end.putShort((short) (zip64 ? 0xFFFF : items.size())).putShort((short) (zip64 ? 0xFFFF : items.size()));
            end.putInt(zip64 ? -1 : (int) cdSize).putInt(zip64 ? -1 : (int) cdOffset).putShort((short) 0);
            put(ch, pos, end.flip());
        }
    }

    private static long put(FileChannel ch, long pos, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) pos += ch.write(b, pos);
        return pos;
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(data);
        d.finish();
        byte[] buf = new byte[data.length * 2 + 64];
        int n = d.deflate(buf);
        d.end();
        return java.util.Arrays.copyOf(buf, n);
    }
}
