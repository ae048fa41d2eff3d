package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.SafeTensorsHeader.Entry;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.DiskSpace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes safetensors files laid out byte for byte as the reference writer ({@code safetensors} tensor.rs {@code prepare}
 * L218-265, {@code serialize} L574-596): tensors sorted by dtype alignment descending (the {@link DType} order reversed), then by
 * name; compact JSON header with {@code __metadata__} first and the tensors in offset order, padded with spaces to a multiple of 8.
 *
 * <p>Writing streams: the header first, then each tensor's bytes, fetched from the {@link TensorSource} one at a time, so a model
 * never needs to be in memory twice. Every file is written atomically: into a temporary file in the same directory, forced to disk,
 * then renamed over the target; on any failure the temporary file is deleted and an existing target is left untouched.
 */
public final class SafeTensorsWriter {
    private SafeTensorsWriter() {}

    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5,}-of-\\d{5,}\\.safetensors");

    /** Writes {@code tensors} (in any order; the layout sorts them) with {@code metadata} (null: no {@code __metadata__}). */
    public static void write(Path file, Map<String, RawTensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, new RawSource(tensors), metadata);
    }

    /** Writes every tensor of {@code source}, reading them one at a time: converts any checkpoint to safetensors, streaming. */
    public static void write(Path file, TensorSource source, Map<String, String> metadata) throws IOException {
        writeFile(file, source, source.names(), metadata);
    }

    /**
     * Writes {@code tensors} as a Hugging Face model directory: {@value SafeTensors#SINGLE_FILE} when their data fits in
     * {@code maxShardBytes}, else shards {@code model-00001-of-0000N.safetensors}, ... of at most {@code maxShardBytes} of tensor data
     * each (a larger tensor gets a shard of its own; tensors are never split) plus {@value SafeTensors#INDEX_FILE}.
     */
    public static List<Path> writeSharded(Path dir, Map<String, RawTensor> tensors, Map<String, String> metadata, long maxShardBytes)
            throws IOException {
        return writeSharded(dir, new RawSource(tensors), metadata, maxShardBytes);
    }

    /**
     * Writes every tensor of {@code source} as a Hugging Face model directory (see {@link #writeSharded(Path, Map, Map, long)}).
     * Shards are filled in the source's name order, as Hugging Face does, and each holds {@code metadata}. The index, with keys sorted
     * and {@code total_size} the sum of the tensors' byte sizes, is written after its shards. Stale outputs of an earlier write to
     * the same directory (a {@value SafeTensors#SINGLE_FILE}, an index, or {@code model-*-of-*.safetensors} shards not written now)
     * are deleted at the end, so the directory always opens as what was written last.
     *
     * @return the files written: the shards in order, then the index (or just the single file)
     */
    public static List<Path> writeSharded(Path dir, TensorSource source, Map<String, String> metadata, long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (String name : source.names()) {
            long bytes = byteSize(source.info(name));
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(name);
            currentBytes += bytes;
            total += bytes;
        }
        shards.add(current);

        Files.createDirectories(dir);
        DiskSpace.require(dir, total, "the " + source.names().size() + " tensors written to " + dir);
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path single = dir.resolve(SafeTensors.SINGLE_FILE);
            writeFile(single, source, shards.get(0), metadata);
            written.add(single);
        } else {
            Map<String, String> weightMap = new TreeMap<>(SafeTensorsHeader.CODE_POINT_ORDER);
            for (int i = 0; i < shards.size(); i++) {
                String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                Path shard = dir.resolve(shardName);
                writeFile(shard, source, shards.get(i), metadata);
                written.add(shard);
                for (String name : shards.get(i)) weightMap.put(name, shardName);
            }
            Path index = dir.resolve(SafeTensors.INDEX_FILE);
            byte[] json = indexJson(total, weightMap);
            atomically(index, json.length, ch -> writeFully(ch, ByteBuffer.wrap(json)));
            written.add(index);
        }
        removeStale(dir, written);
        return written;
    }

    /**
     * ND4J arrays as a {@link TensorSource} for the writer; each array is copied into a {@link RawTensor} only when its turn to be
     * written comes.
     */
    public static TensorSource arrays(Map<String, INDArray> arrays) { return new ArraySource(arrays); }

    private static void writeFile(Path file, TensorSource source, List<String> names, Map<String, String> metadata)
            throws IOException {
        if (metadata != null) {
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException("metadata has a null key or value: " + k + "=" + v);
            });
        }
        List<TensorInfo> infos = new ArrayList<>(names.size());
        for (String name : names) {
            if (name.equals(SafeTensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + SafeTensorsHeader.METADATA_KEY);
            }
            infos.add(source.info(name));
        }
        infos.sort(Comparator.comparingInt((TensorInfo t) -> -t.dtype().ordinal())
                .thenComparing(TensorInfo::name, SafeTensorsHeader.CODE_POINT_ORDER));
        List<Entry> layout = new ArrayList<>(infos.size());
        long offset = 0;
        for (TensorInfo t : infos) {
            long end = offset + byteSize(t);
            layout.add(new Entry(t.name(), t.dtype(), t.shape(), offset, end));
            offset = end;
        }
        byte[] header = SafeTensorsHeader.serialize(metadata, layout);
        atomically(file, 8 + header.length + offset, ch -> {
            writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            writeFully(ch, ByteBuffer.wrap(header));
            for (Entry e : layout) {
                RawTensor r = source.raw(e.name());
                if (r.dtype() != e.dtype() || !Arrays.equals(r.shape(), e.shape())) {
                    throw new IOException(source.description() + ": tensor " + SafeTensorsHeader.quote(e.name()) + " was listed as "
                            + e.dtype() + Arrays.toString(e.shape()) + " but read as " + r.dtype() + Arrays.toString(r.shape()));
                }
                writeFully(ch, r.bytes());
            }
        });
    }

    private static long byteSize(TensorInfo t) {
        long bits = Math.multiplyExact(t.numel(), (long) t.dtype().bits());
        if (bits % 8 != 0) throw new IllegalArgumentException(t + " is " + bits + " bits, not a whole number of bytes");
        return bits / 8;
    }

    /** The Hugging Face index: 2-space indented, keys sorted, as {@code json.dumps(index, indent=2, sort_keys=True)} lays it out. */
    private static byte[] indexJson(long totalSize, Map<String, String> weightMap) {
        StringBuilder sb = new StringBuilder("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n");
        sb.append("  \"weight_map\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            sb.append(sep).append("    ");
            SafeTensorsHeader.appendString(sb, e.getKey());
            sb.append(": ");
            SafeTensorsHeader.appendString(sb, e.getValue());
            sep = ",\n";
        }
        sb.append("\n  }\n}\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void removeStale(Path dir, List<Path> written) throws IOException {
        Set<Path> keep = new HashSet<>(written);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                boolean ours = name.equals(SafeTensors.SINGLE_FILE) || name.equals(SafeTensors.INDEX_FILE)
                        || SHARD_NAME.matcher(name).matches();
                if (ours && !keep.contains(f)) Files.deleteIfExists(f);
            }
        }
    }

    private interface Body {
        void write(FileChannel ch) throws IOException;
    }

    /** Writes {@code file} through a temporary sibling renamed over it at the end; the temporary is deleted on any failure. */
    private static void atomically(Path file, long bytes, Body body) throws IOException {
        Path target = file.toAbsolutePath();
        Path tmp = AtomicFiles.tempSibling(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            AtomicFiles.commit(tmp, target);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                t.addSuppressed(e);
            }
            if (t instanceof IOException io) throw DiskSpace.explain(io, target, bytes);
            throw t;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** A map of tensors already in memory. */
    private record RawSource(Map<String, RawTensor> tensors) implements TensorSource {
        @Override public String description() { return "in-memory tensors"; }

        @Override public List<String> names() { return List.copyOf(tensors.keySet()); }

        @Override public TensorInfo info(String name) { return new TensorInfo(name, get(name).dtype(), get(name).shape()); }

        @Override public RawTensor raw(String name) { return get(name); }

        private RawTensor get(String name) {
            RawTensor t = tensors.get(name);
            if (t == null) throw new IllegalArgumentException("no tensor " + SafeTensorsHeader.quote(name));
            return t;
        }

        @Override public void close() {}
    }

    /** A map of ND4J arrays, converted one at a time as they are written. */
    private static final class ArraySource implements TensorSource {
        private final Map<String, INDArray> arrays;

        ArraySource(Map<String, INDArray> arrays) { this.arrays = new LinkedHashMap<>(arrays); }

        @Override public String description() { return "in-memory ND4J arrays"; }

        @Override public List<String> names() { return List.copyOf(arrays.keySet()); }

        @Override public TensorInfo info(String name) {
            INDArray a = get(name);
            try {
                return new TensorInfo(name, DType.of(a.dataType()), RawTensor.shapeOf(a));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tensor " + SafeTensorsHeader.quote(name) + ": " + e.getMessage(), e);
            }
        }

        @Override public RawTensor raw(String name) { return RawTensor.of(get(name)); }

        private INDArray get(String name) {
            INDArray a = arrays.get(name);
            if (a == null) throw new IllegalArgumentException("no array " + SafeTensorsHeader.quote(name));
            return a;
        }

        @Override public void close() {}
    }
}
