package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedSafeTensorsTest {

    @TempDir Path dir;

    /** A U8 tensor of {@code n} bytes, each {@code fill}. */
    private static RawTensor bytes(int n, int fill) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) fill);
        return new RawTensor(DType.U8, new long[] {n}, ByteBuffer.wrap(b));
    }

    /** Six tensors of 40 bytes each but "big" (100), in a deliberate non-alphabetical order. */
    private static Map<String, RawTensor> model() {
        Map<String, RawTensor> m = new LinkedHashMap<>();
        m.put("layers.1.w", bytes(40, 1));
        m.put("layers.0.w", bytes(40, 2));
        m.put("big", bytes(100, 3));
        m.put("layers.0.b", bytes(40, 4));
        m.put("layers.1.b", bytes(40, 5));
        m.put("head", new RawTensor(DType.F32, new long[] {10}, ByteBuffer.allocate(40)));
        return m;
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String shard(int i, int n) { return String.format("model-%05d-of-%05d.safetensors", i, n); }

    @Test
    void writesAndReadsShards() throws IOException {
        Map<String, RawTensor> m = model();
        List<Path> written = SafeTensorsWriter.writeSharded(dir, m, Map.of("format", "pt"), 80);
        // in name order: [layers.1.w, layers.0.w] 80, [big] 100 alone, [layers.0.b, layers.1.b] 80, [head] 40
        assertEquals(List.of(dir.resolve(shard(1, 4)), dir.resolve(shard(2, 4)), dir.resolve(shard(3, 4)), dir.resolve(shard(4, 4)),
                dir.resolve(SafeTensors.INDEX_FILE)), written);
        assertEquals(List.of(shard(1, 4), shard(2, 4), shard(3, 4), shard(4, 4), SafeTensors.INDEX_FILE), listing());

        String index = Files.readString(dir.resolve(SafeTensors.INDEX_FILE));
        assertEquals("{\n  \"metadata\": {\n    \"total_size\": 300\n  },\n  \"weight_map\": {\n"
                + "    \"big\": \"" + shard(2, 4) + "\",\n"
                + "    \"head\": \"" + shard(4, 4) + "\",\n"
                + "    \"layers.0.b\": \"" + shard(3, 4) + "\",\n"
                + "    \"layers.0.w\": \"" + shard(1, 4) + "\",\n"
                + "    \"layers.1.b\": \"" + shard(3, 4) + "\",\n"
                + "    \"layers.1.w\": \"" + shard(1, 4) + "\"\n  }\n}\n", index);

        for (Path p : List.of(dir, dir.resolve(SafeTensors.INDEX_FILE))) {
            try (TensorSource s = SafeTensors.open(p)) {
                ShardedSafeTensors sh = assertInstanceOf(ShardedSafeTensors.class, s);
                assertEquals(written.subList(0, 4), sh.shards());
                assertEquals(List.of("layers.0.w", "layers.1.w", "big", "layers.0.b", "layers.1.b", "head"), s.names());
                for (Map.Entry<String, RawTensor> e : m.entrySet()) assertEquals(e.getValue(), s.raw(e.getKey()), e.getKey());
                assertEquals(Map.of("format", "pt"), sh.metadata());
                assertEquals(DType.F32, s.dtype("head"));
                CheckpointException missing = assertThrows(CheckpointException.class, () -> s.raw("nope"));
                assertTrue(missing.getMessage().contains("'nope'"), missing.getMessage());
            }
        }
    }

    @Test
    void smallModelIsOneFileAndStaleOutputsAreRemoved() throws IOException {
        SafeTensorsWriter.writeSharded(dir, model(), null, 80);
        assertEquals(5, listing().size());
        List<Path> written = SafeTensorsWriter.writeSharded(dir, model(), null, 1000);
        assertEquals(List.of(dir.resolve(SafeTensors.SINGLE_FILE)), written);
        Files.writeString(dir.resolve("config.json"), "{}");
        assertEquals(List.of(SafeTensors.SINGLE_FILE), listing().stream().filter(n -> !n.equals("config.json")).toList());
        try (TensorSource s = SafeTensors.open(dir)) {
            assertInstanceOf(SafeTensorsFile.class, s);
            assertEquals(6, s.names().size());
        }
        try (ShardedSafeTensors s = ShardedSafeTensors.open(dir)) { // a directory without index reads as one shard
            assertEquals(List.of(dir.resolve(SafeTensors.SINGLE_FILE)), s.shards());
            assertEquals(model().get("big"), s.raw("big"));
        }
        SafeTensorsWriter.writeSharded(dir, model(), null, 200);
        assertEquals(List.of("config.json", shard(1, 2), shard(2, 2), SafeTensors.INDEX_FILE), listing());
    }

    @Test
    void noTensorsWritesOneFile() throws IOException {
        assertEquals(List.of(dir.resolve(SafeTensors.SINGLE_FILE)), SafeTensorsWriter.writeSharded(dir, Map.of(), null, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.writeSharded(dir, Map.of(), null, 0));
    }

    // ---- index errors

    private Path shardedModel() throws IOException {
        SafeTensorsWriter.writeSharded(dir, model(), null, 200);
        return dir.resolve(SafeTensors.INDEX_FILE);
    }

    private void assertIndexError(String indexJson, String... fragments) throws IOException {
        Path index = dir.resolve(SafeTensors.INDEX_FILE);
        Files.writeString(index, indexJson);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(dir).close());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    private static String weightMap(String entries) { return "{\"metadata\":{\"total_size\":1},\"weight_map\":{" + entries + "}}"; }

    private static final String ALL = "\"layers.1.w\":\"model-00001-of-00002.safetensors\","
            + "\"layers.0.w\":\"model-00001-of-00002.safetensors\",\"big\":\"model-00001-of-00002.safetensors\","
            + "\"layers.0.b\":\"model-00002-of-00002.safetensors\",\"layers.1.b\":\"model-00002-of-00002.safetensors\","
            + "\"head\":\"model-00002-of-00002.safetensors\"";

    @Test
    void indexAsWrittenIsConsistent() throws IOException {
        shardedModel();
        Files.writeString(dir.resolve(SafeTensors.INDEX_FILE), weightMap(ALL)); // the hand-written equivalent opens too
        try (TensorSource s = SafeTensors.open(dir)) {
            assertEquals(6, s.names().size());
        }
    }

    @Test
    void missingShard() throws IOException {
        shardedModel();
        Files.delete(dir.resolve(shard(2, 2)));
        assertIndexError(weightMap(ALL), "'model-00002-of-00002.safetensors'", "and 2 more tensors", "does not exist");
    }

    @Test
    void tensorInIndexButNotInShard() throws IOException {
        shardedModel();
        assertIndexError(weightMap(ALL + ",\"ghost\":\"model-00002-of-00002.safetensors\""),
                "'ghost'", "'model-00002-of-00002.safetensors'", "has no such tensor");
        assertIndexError(weightMap(ALL.replace("\"head\":\"model-00002", "\"head\":\"model-00001")),
                "'head'", "'model-00001-of-00002.safetensors'", "has no such tensor");
    }

    @Test
    void tensorInShardButNotInIndex() throws IOException {
        shardedModel();
        assertIndexError(weightMap(ALL.replace(",\"head\":\"model-00002-of-00002.safetensors\"", "")),
                "shard 'model-00002-of-00002.safetensors' holds tensor 'head'", "does not map");
    }

    @Test
    void malformedIndexes() throws IOException {
        shardedModel();
        assertIndexError("not json", "index is not valid JSON");
        assertIndexError("[]", "not a JSON object");
        assertIndexError("{\"metadata\":{}}", "no weight_map");
        assertIndexError("{\"weight_map\":[]}", "weight_map must be an object");
        assertIndexError(weightMap("\"a\":1"), "weight_map value of 'a' must be a shard file name");
        assertIndexError(weightMap(ALL + ",\"head\":\"model-00002-of-00002.safetensors\""), "lists 'head' twice");
        assertIndexError("{\"weight_map\":{},\"weight_map\":{}}", "two weight_map");
        assertIndexError(weightMap(ALL) + "x", "not valid JSON");
        assertIndexError(weightMap("\"a\":\"../outside.safetensors\""), "'../outside.safetensors'", "not a file inside");
        assertIndexError(weightMap("\"a\":\"/etc/passwd\""), "not a file inside");
        assertIndexError(weightMap("\"a\":\"\""), "not a file inside");
        assertIndexError(weightMap("\"a\":\"x\\u0000y\""), "not a valid file name");
    }

    @Test
    void corruptShardIsReportedByItsPath() throws IOException {
        shardedModel();
        Path s2 = dir.resolve(shard(2, 2));
        byte[] b = Files.readAllBytes(s2);
        Files.write(s2, Arrays.copyOf(b, b.length - 1));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(dir).close());
        assertEquals(s2, e.file());
    }

    @Test
    void directoryWithNeitherLayout() throws IOException {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(dir));
        assertTrue(e.getMessage().contains(SafeTensors.INDEX_FILE), e.getMessage());
        assertThrows(CheckpointException.class, () -> ShardedSafeTensors.open(dir));
        Files.write(dir.resolve("weights.json"), "{\"weight_map\":{}}".getBytes(StandardCharsets.UTF_8));
        try (TensorSource s = SafeTensors.open(dir.resolve("weights.json"))) { // an index under another name, mapping nothing
            assertTrue(s.names().isEmpty());
        }
    }
}
