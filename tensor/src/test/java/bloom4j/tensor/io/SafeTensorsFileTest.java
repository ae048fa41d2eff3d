package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static bloom4j.tensor.io.SafeTensorsBytes.concat;
import static bloom4j.tensor.io.SafeTensorsBytes.f32;
import static bloom4j.tensor.io.SafeTensorsBytes.file;
import static bloom4j.tensor.io.SafeTensorsBytes.le64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsFileTest {

    @TempDir Path dir;

    private Path write(byte[] content) throws IOException { return SafeTensorsBytes.write(dir, "t.safetensors", content); }

    @Test
    void readsKeysInAnyOrderOffsetsInAnyOrderAndAnyPadding() throws IOException {
        String header = "{\"b\":{\"data_offsets\":[8,12],\"shape\":[],\"dtype\":\"I32\"},"
                + "\"__metadata__\":{\"z\":\"1\",\"a\":\"two\"},"
                + "\"e\":{\"dtype\":\"F16\",\"data_offsets\":[12,12],\"shape\":[0,4]},"
                + "\"a/x.weight\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[0,8]},"
                + "\"d\":{\"shape\":[1],\"data_offsets\":[12,14],\"dtype\":\"BF16\"}} \n\t ";
        byte[] data = concat(f32(1.5f, -2f), new byte[] {7, 0, 0, 0}, new byte[] {(byte) 0xC0, 0x3F});
        try (SafeTensorsFile f = SafeTensorsFile.open(write(file(header, data)))) {
            assertEquals(List.of("a/x.weight", "b", "e", "d"), f.names()); // offset order; the empty "e" keeps header order at 12
            assertEquals(List.of("z", "a"), List.copyOf(f.metadata().keySet()));
            assertEquals("two", f.metadata().get("a"));
            assertEquals(new TensorInfo("b", DType.I32, new long[0]), f.info("b"));
            assertArrayEquals(new float[] {1.5f, -2f}, f.load("a/x.weight").toFloatVector());
            assertEquals(7, f.load("b").getInt(0));
            assertEquals(0, f.load("b").rank());
            INDArray e = f.load("e");
            assertTrue(e.isEmpty());
            assertArrayEquals(new long[] {0, 4}, e.shape());
            assertEquals(DataType.HALF, e.dataType());
            assertEquals(1.5f, f.load("d", DataType.FLOAT).getFloat(0));
            assertTrue(f.contains("d"));
            assertFalse(f.contains("x"));
            assertEquals(4, f.totalElements());
        }
    }

    @Test
    void fileWithNoTensors() throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(write(file("{}      ", new byte[0])))) {
            assertTrue(f.names().isEmpty());
            assertTrue(f.metadata().isEmpty());
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(write(file("{\"__metadata__\":{}}", new byte[0])))) {
            assertTrue(f.names().isEmpty());
        }
    }

    @Test
    void missingTensorNamesFileAndTensor() throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(write(file("{}", new byte[0])))) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.raw("nope"));
            assertTrue(e.getMessage().contains("t.safetensors") && e.getMessage().contains("'nope'"), e.getMessage());
            assertThrows(CheckpointException.class, () -> f.info("nope"));
        }
    }

    @Test
    void rawBuffersOutliveTheFileAndReadingAfterCloseIsRefused() throws IOException {
        SafeTensorsFile f = SafeTensorsFile.open(write(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                f32(3, 4))));
        RawTensor r = f.raw("a");
        f.close();
        assertArrayEquals(new float[] {3, 4}, r.toINDArray().toFloatVector());
        assertThrows(IllegalStateException.class, () -> f.raw("a"));
    }

    private static final String A_F32_2 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    static Stream<Arguments> invalidHeaders() {
        return Stream.of(
                // name, header, data bytes, expected message fragments
                Arguments.of("leading space", " {}", 0, List.of("must start with '{'", "0x20")),
                Arguments.of("truncated JSON", "{\"a\":", 0, List.of("not valid JSON")),
                Arguments.of("trailing garbage", "{}x", 0, List.of("not valid JSON")),
                Arguments.of("second object", "{} {}", 0, List.of("content after its JSON object")),
                Arguments.of("NUL padding", "{}\0\0", 0, List.of("not valid JSON")),
                Arguments.of("comment", "{/* */}", 0, List.of("not valid JSON")),
                Arguments.of("entry not an object", "{\"a\":[1]}", 0, List.of("'a'", "expected an object", "an array")),
                Arguments.of("unknown key", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8,
                        List.of("'a'", "unknown key 'extra'")),
                Arguments.of("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "missing key 'dtype'")),
                Arguments.of("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, List.of("missing key 'shape'")),
                Arguments.of("missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, List.of("missing key 'data_offsets'")),
                Arguments.of("key twice", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "key 'dtype' appears twice")),
                Arguments.of("unknown dtype", "{\"a\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "unknown dtype 'F128'", "BF16")),
                Arguments.of("lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        List.of("unknown dtype 'f32'")),
                Arguments.of("dtype not a string", "{\"a\":{\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                        List.of("dtype must be a string", "number 5")),
                Arguments.of("negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "shape", "non-negative", "-2")),
                Arguments.of("fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
                        List.of("shape must hold integers", "number 2.0")),
                Arguments.of("huge dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}", 8,
                        List.of("shape must hold integers in [0, 2^63)")),
                Arguments.of("nested shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]}}", 8,
                        List.of("shape must hold integers", "an array")),
                Arguments.of("shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
                        List.of("shape must be an array")),
                Arguments.of("shape null", "{\"a\":{\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,8]}}", 8,
                        List.of("shape must be an array", "null")),
                Arguments.of("one offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
                        List.of("data_offsets must have 2 elements, got 1")),
                Arguments.of("three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8,
                        List.of("data_offsets must have 2 elements, got 3")),
                Arguments.of("negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
                        List.of("data_offsets must hold non-negative integers, got -8")),
                Arguments.of("end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
                        List.of("'a'", "[8, 0] end before they begin")),
                Arguments.of("duplicate tensor", "{" + A_F32_2 + "," + A_F32_2 + "}", 8, List.of("tensor 'a' appears twice")),
                Arguments.of("duplicate metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, List.of("two __metadata__")),
                Arguments.of("metadata number", "{\"__metadata__\":{\"k\":1}}", 0,
                        List.of("__metadata__ value of 'k' must be a string, got number 1")),
                Arguments.of("metadata nested", "{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0,
                        List.of("__metadata__ value of 'k' must be a string", "an object")),
                Arguments.of("metadata string", "{\"__metadata__\":\"x\"}", 0, List.of("__metadata__ must be an object")),
                Arguments.of("metadata null", "{\"__metadata__\":null}", 0, List.of("__metadata__ must be an object")),
                Arguments.of("metadata key twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
                        List.of("__metadata__ has key 'k' twice")),
                Arguments.of("hole", "{" + A_F32_2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16,
                        List.of("'b'", "begin at 12, expected 8", "'a' ends at 8", "hole")),
                Arguments.of("overlap", "{" + A_F32_2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                        List.of("'b'", "begin at 4, expected 8", "overlap")),
                Arguments.of("not from 0", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                        List.of("'a'", "begin at 4, expected 0")),
                Arguments.of("size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                        List.of("'a'", "F32[2] needs 8 bytes", "[0, 4] span 4")),
                Arguments.of("partial byte", "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 1,
                        List.of("'a'", "F4[3] is 12 bits")),
                Arguments.of("numel overflow",
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "too many elements")),
                Arguments.of("bit count overflow",
                        "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8,
                        List.of("'a'", "too many elements")),
                Arguments.of("data too long", "{" + A_F32_2 + "}", 12, List.of("ends at byte 8", "has 12 bytes after the header")),
                Arguments.of("data too short", "{" + A_F32_2 + "}", 4, List.of("ends at byte 8", "has 4 bytes after the header")),
                Arguments.of("data truncated", "{" + A_F32_2 + "}", 7, List.of("ends at byte 8", "has 7 bytes after the header")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidHeaders")
    void invalidHeaderIsRejectedWithAPreciseMessage(String name, String header, int dataBytes, List<String> fragments)
            throws IOException {
        Path p = write(file(header, new byte[dataBytes]));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.open(p).close());
        assertEquals(p, e.file());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }

    @Test
    void invalidLengthPrefixes() throws IOException {
        assertRejected(new byte[0], "file is 0 bytes, too short");
        assertRejected(new byte[] {2, 0, 0}, "file is 3 bytes, too short");
        assertRejected(le64(0), "got an empty header");
        assertRejected(concat(le64(100_000_001), "{}".getBytes()), "header length 100000001 exceeds the limit of 100000000");
        assertRejected(concat(le64(-2), "{}".getBytes()), "header length 18446744073709551614 exceeds");
        assertRejected(concat(le64(99_999_999), "{}".getBytes()), "header length 99999999 runs past the end of the file (2 bytes");
        assertRejected(concat(le64(3), "{}".getBytes()), "header length 3 runs past the end");
        assertRejected(file(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, new byte[0]), "not valid UTF-8");
        assertRejected(file(new byte[] {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, new byte[0]), "not valid UTF-8");
        assertRejected(file(new byte[] {'{', 0, '}', 0}, new byte[0]), "not valid JSON"); // would pass as UTF-16LE with autodetection
    }

    private void assertRejected(byte[] content, String fragment) throws IOException {
        Path p = write(content);
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.open(p).close());
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
    }

    @Test
    void aDirectoryIsNotAFile() {
        assertThrows(CheckpointException.class, () -> SafeTensorsFile.open(dir));
    }

    @Test
    void longNamesAreShortenedInMessages() throws IOException {
        String longName = "x".repeat(100_000);
        Path p = write(file("{\"" + longName + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensorsFile.open(p).close());
        assertTrue(e.getMessage().length() < 1000 && e.getMessage().contains("(100000 chars)"), e.getMessage());
    }

    // ---- the shared fixture, written by the Python safetensors library

    @Test
    void readsThePtFormatsFixture() throws IOException {
        Path p = dir.resolve("io.safetensors");
        try (InputStream in = getClass().getResourceAsStream("/bloom4j/fixtures/pt-formats/io.safetensors")) {
            Files.copy(in, p);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(55, f.names().size());
            assertEquals("model.pt/vae.vae.encoder.layers.0.bias", f.names().get(0));
            assertEquals("nested.pt/od/y", f.names().get(54));
            assertEquals(Map.of("kind", "pt-formats", "generator", "tools/fixtures/songbloom/gen_pt_formats.py"), f.metadata());

            INDArray i64 = f.load("dtypes.pt/i64");
            assertEquals(DataType.LONG, i64.dataType());
            assertArrayEquals(new long[] {501011495862L, 769751723590L, 950313692385L, 540798266091L, 1084802398508L},
                    i64.toLongVector());
            assertArrayEquals(new long[] {1, 2, 3}, f.load("nested.pt/od/y").toLongVector());

            INDArray scalar = f.load("views.pt/scalar");
            assertEquals(0, scalar.rank());
            assertEquals(3.5f, scalar.getFloat(0));
            String score = "lightning.ckpt/callbacks/ModelCheckpoint{'monitor': 'valid_loss', 'mode': 'min'}/best_model_score";
            assertEquals(new TensorInfo(score, DType.F32, new long[0]), f.info(score));
            assertEquals(4.0f, f.loadFloat(score).getFloat(0));
            assertEquals(3.0f, f.loadFloat("lightning.ckpt/optimizer_states/0/state/0/step").getFloat(0));

            INDArray empty = f.load("views.pt/empty");
            assertTrue(empty.isEmpty());
            assertArrayEquals(new long[] {0, 4}, empty.shape());
            assertEquals(0, f.raw("views.pt/empty").byteSize());

            assertArrayEquals(new float[] {0f, -0f, 65504f, 6.097555160522461e-05f, 5.960464477539063e-08f,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}, f.load("dtypes.pt/f16_special").toFloatVector());
            assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f.load("dtypes.pt/f16_special").getFloat(1)));
            assertArrayEquals(new float[] {9.969209968386869e+37f, -2.9938371747505135e-38f, 0.333984375f, -2.5f},
                    f.load("dtypes.pt/bf16_special").toFloatVector());
            assertArrayEquals(new float[] {-0.5396488308906555f, 0.1431565135717392f, -1.6451860666275024f, -0.8604898452758789f,
                    1.0257357358932495f, 0.9030464887619019f, -1.0034292936325073f, -1.1943843364715576f},
                    f.load("model.pt/model.bos_token").toFloatVector());
            assertArrayEquals(new long[] {4, 2, 7}, f.info("model.pt/vae.vae.encoder.layers.0.weight_v").shape());
        }
    }

    // ---- files over 2 GiB

    @Test
    void readsTensorsPastTwoGigabytesFromASparseFile() throws IOException {
        long big = (1L << 31) + (1L << 29);   // 2.5 GiB: too large for one buffer
        long mid = (1L << 30) + (1L << 29);   // 1.5 GiB: over the window guarantee, so it gets a mapping of its own
        long midAt = 8 + big;
        long tailAt = midAt + mid;
        String header = "{\"head\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[8," + midAt + "]},"
                + "\"mid\":{\"dtype\":\"U8\",\"shape\":[" + mid + "],\"data_offsets\":[" + midAt + "," + tailAt + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + tailAt + "," + (tailAt + 12) + "]}}";
        byte[] prefix = file(header, f32(1, 2));
        long dataStart = prefix.length - 8;
        Path p = dir.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.write(prefix);
            raf.setLength(dataStart + tailAt + 12); // a hole: costs no disk
            raf.seek(dataStart + midAt);
            raf.write(0x5A);
            raf.seek(dataStart + tailAt - 1);
            raf.write(0xA5);
            raf.write(f32(7, 8, 9));
        }
        assertTrue(Files.size(p) > (1L << 32));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(List.of("head", "big", "mid", "tail"), f.names());
            assertArrayEquals(new float[] {7, 8, 9}, f.load("tail").toFloatVector());
            assertArrayEquals(new float[] {1, 2}, f.load("head").toFloatVector());
            assertArrayEquals(new long[] {big}, f.info("big").shape());
            CheckpointException e = assertThrows(CheckpointException.class, () -> f.raw("big"));
            assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("2 GiB"), e.getMessage());
            ByteBuffer m = f.raw("mid").bytes();
            assertEquals(mid, m.capacity());
            assertEquals(0x5A, m.get(0));
            assertEquals((byte) 0xA5, m.get((int) mid - 1));
            assertEquals(0, m.get((int) (mid / 2)));
        }
    }
}
