package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static bloom4j.tensor.io.SafeTensorsBytes.concat;
import static bloom4j.tensor.io.SafeTensorsBytes.f32;
import static bloom4j.tensor.io.SafeTensorsBytes.le64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsWriterTest {

    @TempDir Path dir;

    private static RawTensor raw(DType t, long[] shape, int... bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes.length);
        for (int v : bytes) b.put((byte) v);
        return new RawTensor(t, shape, b.flip());
    }

    private List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void layoutIsByteExactAgainstTheSpec() throws IOException {
        Map<String, RawTensor> t = new LinkedHashMap<>();
        t.put("z", raw(DType.U8, new long[] {3}, 1, 2, 3));
        t.put("b", new RawTensor(DType.F32, new long[] {2}, ByteBuffer.wrap(f32(1.5f, -2f))));
        t.put("e", raw(DType.BF16, new long[] {0, 4}));
        t.put("c", raw(DType.I64, new long[0], 9, 0, 0, 0, 0, 0, 0, 0));
        t.put("a", new RawTensor(DType.F32, new long[] {1}, ByteBuffer.wrap(f32(0.5f))));
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, t, Map.of("format", "pt"));

        // dtype alignment descending (I64 > F32 > BF16 > U8), then name; __metadata__ first; compact; spaces to a multiple of 8
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                + "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,4],\"data_offsets\":[20,20]},"
                + "\"z\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[20,23]}}";
        assertEquals(305, json.length());
        String padded = json + "       "; // 7 spaces: 312 = 39 * 8
        byte[] expected = concat(le64(312), padded.getBytes(StandardCharsets.US_ASCII),
                new byte[] {9, 0, 0, 0, 0, 0, 0, 0}, f32(0.5f), f32(1.5f, -2f), new byte[] {1, 2, 3});
        assertArrayEquals(expected, Files.readAllBytes(p));
        assertEquals(List.of("x.safetensors"), dirListing()); // no temporary file left behind
    }

    @Test
    void headerStringsAreEscapedAsSerdeJsonDoes() throws IOException {
        String name = "a\"b\\c\nd\u0001\u001f\t/é€";
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, Map.of(name, raw(DType.U8, new long[] {1}, 5)), null);
        String json = "{\"a\\\"b\\\\c\\nd\\u0001\\u001f\\t/é€\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        byte[] padded = concat(header, " ".repeat((8 - header.length % 8) % 8).getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(concat(le64(padded.length), padded, new byte[] {5}), Files.readAllBytes(p));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of(name), f.names());
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void emptyMetadataIsWrittenNullIsOmitted() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, Map.of(), Map.of());
        assertArrayEquals(concat(le64(24), "{\"__metadata__\":{}}     ".getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(p));
        SafeTensorsWriter.write(p, Map.of(), null);
        assertArrayEquals(concat(le64(8), "{}      ".getBytes(StandardCharsets.US_ASCII)), Files.readAllBytes(p));
    }

    @Test
    void namesSortByCodePointLikeRust() throws IOException {
        // UTF-16 order puts U+1F600 (surrogates D83D DE00) before U+FFFD; UTF-8 byte order, which Rust uses, puts it after
        String emoji = "\uD83D\uDE00";
        Map<String, RawTensor> t = Map.of(emoji, raw(DType.U8, new long[] {1}, 1), "\uFFFD", raw(DType.U8, new long[] {1}, 2),
                "B", raw(DType.U8, new long[] {1}, 3), "a", raw(DType.U8, new long[] {1}, 4));
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, t, null);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of("B", "a", "\uFFFD", emoji), f.names());
        }
    }

    @Test
    void invalidNamesAndMetadataAreRefusedBeforeWriting() {
        Path p = dir.resolve("x.safetensors");
        RawTensor one = raw(DType.U8, new long[] {1}, 1);
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(p, Map.of("__metadata__", one), null));
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(p, Map.of("bad\uD800", one), null));
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensorsWriter.write(p, Map.of("a", one), nullValue));
        assertFalse(Files.exists(p));
    }

    @Test
    void everyDtypeRoundTripsAsRawBytes() throws IOException {
        Random rnd = new Random(3);
        Map<String, RawTensor> t = new LinkedHashMap<>();
        for (DType d : DType.values()) {
            long[] shape = {2, 4}; // 8 elements: a whole number of bytes even for F4 and F6
            byte[] data = new byte[(int) (8L * d.bits() / 8)];
            rnd.nextBytes(data);
            t.put("t." + d, new RawTensor(d, shape, ByteBuffer.wrap(data)));
            t.put("scalar." + d, d.bits() % 8 == 0 ? new RawTensor(d, new long[0], ByteBuffer.wrap(data, 0, d.bits() / 8))
                    : new RawTensor(d, new long[] {8}, ByteBuffer.wrap(data)));
            t.put("empty." + d, new RawTensor(d, new long[] {0, 4}, ByteBuffer.allocate(0)));
        }
        Path p = dir.resolve("all.safetensors");
        SafeTensorsWriter.write(p, t, Map.of("k", "v"));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(t.size(), f.names().size());
            for (Map.Entry<String, RawTensor> e : t.entrySet()) {
                assertEquals(e.getValue(), f.raw(e.getKey()), e.getKey());
                assertEquals(new TensorInfo(e.getKey(), e.getValue().dtype(), e.getValue().shape()), f.info(e.getKey()));
            }
            assertEquals(Map.of("k", "v"), f.metadata());
            // every tensor is naturally aligned in the file (data start 8 + N is a multiple of 8, wide types first)
            long headerLength = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
        }
    }

    @Test
    void everyNd4jTypeRoundTripsAsArrays() throws IOException {
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        for (DType d : RawTensorTest.ND4J_TYPES) {
            arrays.put(d + ".matrix", RawTensorTest.sample(d).toINDArray());
            arrays.put(d + ".view", RawTensorTest.sample(d).toINDArray().transpose());
            arrays.put(d + ".scalar", RawTensorTest.raw(d, new long[0], RawTensorTest.values(d)[3]).toINDArray());
            arrays.put(d + ".empty", Nd4j.create(d.nd4j(), 0, 4));
        }
        Path p = dir.resolve("arrays.safetensors");
        SafeTensorsWriter.write(p, SafeTensorsWriter.arrays(arrays), null);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                INDArray back = f.load(e.getKey());
                assertEquals(e.getValue().dataType(), back.dataType(), e.getKey());
                assertArrayEquals(e.getValue().shape(), back.shape(), e.getKey());
                assertEquals(RawTensor.of(e.getValue()), f.raw(e.getKey()), e.getKey());
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensorsWriter.write(p, SafeTensorsWriter.arrays(Map.of("s", Nd4j.create("x"))), null));
    }

    @Test
    void overwritesAtomically() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, Map.of("a", raw(DType.U8, new long[] {1}, 1)), null);
        SafeTensorsWriter.write(p, Map.of("b", raw(DType.U8, new long[] {2}, 1, 2)), null);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of("b"), f.names());
        }
        assertEquals(List.of("x.safetensors"), dirListing());
        Path nested = dir.resolve("new/sub/y.safetensors");
        SafeTensorsWriter.write(nested, Map.of(), null);
        assertTrue(Files.isRegularFile(nested));
    }

    /** A source whose second tensor fails while the file is half written. */
    private static TensorSource failingSource(Exception failure) {
        Map<String, RawTensor> good = Map.of("a", new RawTensor(DType.F32, new long[] {1}, ByteBuffer.wrap(f32(1))),
                "b", new RawTensor(DType.F32, new long[] {1}, ByteBuffer.wrap(f32(2))));
        return new TensorSource() {
            @Override public String description() { return "failing"; }

            @Override public List<String> names() { return List.of("a", "b"); }

            @Override public TensorInfo info(String name) { return new TensorInfo(name, DType.F32, new long[] {1}); }

            @Override public RawTensor raw(String name) throws IOException {
                if (name.equals("b")) {
                    if (failure instanceof IOException io) throw io;
                    if (failure instanceof RuntimeException re) throw re;
                    return new RawTensor(DType.F32, new long[] {1, 1}, ByteBuffer.wrap(f32(2))); // not what info() promised
                }
                return good.get(name);
            }

            @Override public void close() {}
        };
    }

    @Test
    void aFailureMidwayLeavesTheOriginalUntouchedAndNoTemporaryFile() throws IOException {
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, Map.of("orig", raw(DType.U8, new long[] {1}, 42)), null);
        byte[] before = Files.readAllBytes(p);

        IOException io = assertThrows(IOException.class,
                () -> SafeTensorsWriter.write(p, failingSource(new IOException("disk on fire")), null));
        assertEquals("disk on fire", io.getMessage());
        assertThrows(UncheckedIOException.class,
                () -> SafeTensorsWriter.write(p, failingSource(new UncheckedIOException(new IOException("x"))), null));
        IOException mismatch = assertThrows(IOException.class, () -> SafeTensorsWriter.write(p, failingSource(new Exception()), null));
        assertTrue(mismatch.getMessage().contains("'b' was listed as F32[1] but read as F32[1, 1]"), mismatch.getMessage());

        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of("x.safetensors"), dirListing());
        Path fresh = dir.resolve("fresh.safetensors");
        assertThrows(IOException.class, () -> SafeTensorsWriter.write(fresh, failingSource(new IOException("x")), null));
        assertFalse(Files.exists(fresh));
        assertEquals(List.of("x.safetensors"), dirListing());
    }

    @Test
    void rewritesAFileFromItself() throws IOException {
        // the source maps the old file while the new one is written beside it; the rename leaves that mapping intact
        Path p = dir.resolve("x.safetensors");
        SafeTensorsWriter.write(p, Map.of("w", new RawTensor(DType.F32, new long[] {2}, ByteBuffer.wrap(f32(1, 2)))), null);
        try (SafeTensorsFile in = SafeTensorsFile.open(p)) {
            SafeTensorsWriter.write(p, in, Map.of("format", "pt"));
        }
        try (SafeTensorsFile out = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {1, 2}, out.load("w").toFloatVector());
            assertEquals(Map.of("format", "pt"), out.metadata());
        }
    }

    @Test
    void convertsASourceStreaming() throws IOException {
        Path src = dir.resolve("src.safetensors");
        SafeTensorsWriter.write(src, Map.of("w", new RawTensor(DType.F32, new long[] {2}, ByteBuffer.wrap(f32(1, 2)))), null);
        Path dst = dir.resolve("dst.safetensors");
        try (SafeTensorsFile in = SafeTensorsFile.open(src)) {
            SafeTensorsWriter.write(dst, in, Map.of("format", "pt"));
        }
        try (SafeTensorsFile out = SafeTensorsFile.open(dst)) {
            assertArrayEquals(new float[] {1, 2}, out.load("w").toFloatVector());
            assertEquals(DataType.FLOAT, out.load("w").dataType());
        }
    }
}
