package bloom4j.tensor.io;

import bloom4j.tensor.TensorInfo;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Safetensors weights split over shards, as Hugging Face saves large models: {@code model.safetensors.index.json} holds
 * {@code {"metadata": {"total_size": ...}, "weight_map": {tensor name: shard file name}}} next to the shards
 * {@code model-00001-of-0000N.safetensors}, ... Read as one {@link TensorSource}: names are the shards' names, shard by shard (in
 * file name order), each shard in data-offset order.
 *
 * <p>Opening validates everything up front: every shard named by the index exists, lies in the index's directory, is a valid
 * safetensors file, and holds exactly the tensors the index maps to it.
 */
public final class ShardedSafeTensors implements TensorSource {

    /** Largest index file read; real ones are a few MB even for the largest models. */
    private static final long MAX_INDEX_BYTES = 100_000_000;

    private static final JsonFactory JSON = new JsonFactory();

    private final Path index;
    private final List<SafeTensorsFile> shards;
    private final Map<String, SafeTensorsFile> byName;
    private final List<String> names;

    private ShardedSafeTensors(Path index, List<SafeTensorsFile> shards) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.byName = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (SafeTensorsFile s : shards) {
            for (String n : s.names()) byName.put(n, s);
            order.addAll(s.names());
        }
        this.names = Collections.unmodifiableList(order);
    }

    /**
     * Opens a shard index, or a directory holding {@value SafeTensors#INDEX_FILE} (or else a single {@value SafeTensors#SINGLE_FILE},
     * read as one shard).
     */
    public static ShardedSafeTensors open(Path indexOrDir) throws IOException {
        Path index = indexOrDir;
        if (Files.isDirectory(indexOrDir)) {
            index = indexOrDir.resolve(SafeTensors.INDEX_FILE);
            if (!Files.exists(index)) {
                Path single = indexOrDir.resolve(SafeTensors.SINGLE_FILE);
                if (!Files.isRegularFile(single)) {
                    throw new CheckpointException(indexOrDir, "directory holds neither " + SafeTensors.INDEX_FILE + " nor "
                            + SafeTensors.SINGLE_FILE);
                }
                return new ShardedSafeTensors(single, List.of(SafeTensorsFile.open(single)));
            }
        }
        Map<String, String> weightMap = readWeightMap(index);
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, Set<String>> expected = new TreeMap<>(); // shard file name -> tensor names; sorted: shard order
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            expected.computeIfAbsent(e.getValue(), k -> new LinkedHashSet<>()).add(e.getKey());
        }
        List<SafeTensorsFile> opened = new ArrayList<>();
        try {
            for (Map.Entry<String, Set<String>> shard : expected.entrySet()) {
                opened.add(openShard(index, dir, shard.getKey(), shard.getValue()));
            }
            return new ShardedSafeTensors(index, opened);
        } catch (IOException | RuntimeException | Error e) {
            for (SafeTensorsFile s : opened) {
                try {
                    s.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static SafeTensorsFile openShard(Path index, Path dir, String shardName, Set<String> expected) throws IOException {
        String example = SafeTensorsHeader.quote(expected.iterator().next());
        Path shard;
        try {
            shard = dir.resolve(shardName).normalize();
        } catch (InvalidPathException e) {
            throw new CheckpointException(index, "weight_map maps " + example + " to shard " + SafeTensorsHeader.quote(shardName)
                    + ", which is not a valid file name", e);
        }
        if (!shard.startsWith(dir) || shard.equals(dir)) {
            throw new CheckpointException(index, "weight_map maps " + example + " to shard " + SafeTensorsHeader.quote(shardName)
                    + ", which is not a file inside the index's directory " + dir);
        }
        if (!Files.isRegularFile(shard)) {
            throw new CheckpointException(index, "shard " + SafeTensorsHeader.quote(shardName) + " (holding " + example
                    + (expected.size() > 1 ? " and " + (expected.size() - 1) + " more tensors" : "") + ") does not exist: " + shard);
        }
        SafeTensorsFile file = SafeTensorsFile.open(shard);
        try {
            for (String n : expected) {
                if (!file.contains(n)) {
                    throw new CheckpointException(index, "weight_map puts " + SafeTensorsHeader.quote(n) + " in shard "
                            + SafeTensorsHeader.quote(shardName) + ", but that shard has no such tensor");
                }
            }
            for (String n : file.names()) {
                if (!expected.contains(n)) {
                    throw new CheckpointException(index, "shard " + SafeTensorsHeader.quote(shardName) + " holds tensor "
                            + SafeTensorsHeader.quote(n) + ", which weight_map does not map to it");
                }
            }
            return file;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** The index's {@code weight_map}, in file order; other top-level keys ({@code metadata}) are skipped. */
    private static Map<String, String> readWeightMap(Path index) throws IOException {
        long size = Files.size(index);
        if (size > MAX_INDEX_BYTES) {
            throw new CheckpointException(index, "index is " + size + " bytes, over the limit of " + MAX_INDEX_BYTES);
        }
        Map<String, String> weightMap = null;
        try (JsonParser p = JSON.createParser(Files.readAllBytes(index))) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new CheckpointException(index, "index is not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (!key.equals("weight_map")) {
                    p.skipChildren();
                    continue;
                }
                if (weightMap != null) throw new CheckpointException(index, "index has two weight_map entries");
                if (p.currentToken() != JsonToken.START_OBJECT) {
                    throw new CheckpointException(index, "weight_map must be an object of tensor name to shard file name, got "
                            + p.currentToken());
                }
                weightMap = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    if (p.nextToken() != JsonToken.VALUE_STRING) {
                        throw new CheckpointException(index, "weight_map value of " + SafeTensorsHeader.quote(name)
                                + " must be a shard file name, got " + p.currentToken());
                    }
                    if (weightMap.put(name, p.getText()) != null) {
                        throw new CheckpointException(index, "weight_map lists " + SafeTensorsHeader.quote(name) + " twice");
                    }
                }
            }
            if (p.nextToken() != null) throw new CheckpointException(index, "index has content after its JSON object");
        } catch (JsonProcessingException e) {
            throw new CheckpointException(index, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (weightMap == null) throw new CheckpointException(index, "index has no weight_map");
        return weightMap;
    }

    /** The index file (or the single model file when a directory held no index). */
    public Path index() { return index; }

    /** The shard files, in the order their tensors are listed. */
    public List<Path> shards() {
        List<Path> out = new ArrayList<>();
        for (SafeTensorsFile s : shards) out.add(s.path());
        return out;
    }

    /** The {@code __metadata__} of the first shard (Hugging Face writes the same map, {@code {"format": "pt"}}, into every shard). */
    public Map<String, String> metadata() { return shards.isEmpty() ? Map.of() : shards.get(0).metadata(); }

    @Override public String description() { return index.toString(); }

    @Override public List<String> names() { return names; }

    @Override public boolean contains(String name) { return byName.containsKey(name); }

    @Override public TensorInfo info(String name) throws IOException { return shardOf(name).info(name); }

    @Override public RawTensor raw(String name) throws IOException { return shardOf(name).raw(name); }

    private SafeTensorsFile shardOf(String name) throws CheckpointException {
        SafeTensorsFile s = byName.get(name);
        if (s == null) {
            throw new CheckpointException(index, "no tensor named " + SafeTensorsHeader.quote(name) + " in " + shards.size()
                    + " shards (" + names.size() + " tensors)");
        }
        return s;
    }

    /** Closes every shard, even when one fails to close. */
    @Override public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile s : shards) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    @Override public String toString() { return "ShardedSafeTensors[" + index + ", " + shards.size() + " shards]"; }
}
