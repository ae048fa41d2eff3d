package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static bloom4j.tensor.io.SafeTensorsBytes.f32;
import static bloom4j.tensor.io.SafeTensorsBytes.le64;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated safetensors files must be read or rejected with a {@link CheckpointException}: never another exception, an
 * {@link OutOfMemoryError} or a hang. Half of the mutants edit the whole file; the other half edit only the JSON header and fix up
 * the length prefix, so they get past the first checks and exercise the header validation.
 */
class SafeTensorsFuzzTest {

    @TempDir Path dir;

    private byte[] seedWithEveryKindOfTensor() throws IOException {
        Map<String, RawTensor> t = new LinkedHashMap<>();
        t.put("w/0.weight", new RawTensor(DType.F32, new long[] {2, 3}, ByteBuffer.wrap(f32(1, 2, 3, 4, 5, 6))));
        t.put("step", new RawTensor(DType.I64, new long[0], ByteBuffer.wrap(le64(3))));
        t.put("empty", new RawTensor(DType.BF16, new long[] {0, 4}, ByteBuffer.allocate(0)));
        t.put("ids", new RawTensor(DType.U8, new long[] {5}, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5})));
        t.put("half", new RawTensor(DType.F16, new long[] {2}, ByteBuffer.wrap(new byte[] {0, 0x3C, 0, (byte) 0xC0})));
        t.put("fp4", new RawTensor(DType.F4, new long[] {4}, ByteBuffer.wrap(new byte[] {0x12, 0x34})));
        t.put("mask", new RawTensor(DType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {1, 0, 1})));
        Path p = dir.resolve("seed.safetensors");
        SafeTensorsWriter.write(p, t, Map.of("format", "pt", "note", "seed"));
        return Files.readAllBytes(p);
    }

    private byte[] fixture() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/bloom4j/fixtures/pt-formats/io.safetensors")) {
            return in.readAllBytes();
        }
    }

    /** Opens the file and reads every tensor as bytes and, where ND4J has its type, as arrays. */
    private static void readAll(Path file) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            f.metadata().forEach((k, v) -> { });
            for (String name : f.names()) {
                f.info(name);
                RawTensor r = f.raw(name);
                ByteBuffer b = r.bytes();
                while (b.hasRemaining()) b.get();
                if (r.dtype().nd4j() != null) {
                    r.toINDArray();
                    r.toINDArray(DataType.FLOAT);
                }
            }
        }
    }

    @Test
    void mutatedFilesAreReadOrRejectedCleanly() throws IOException {
        List<byte[]> seeds = List.of(
                seedWithEveryKindOfTensor(),
                SafeTensorsBytes.file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ", f32(1, 2)),
                fixture());
        Fuzz fuzz = new Fuzz(20240611L).hotField(0, 8);
        int[] n = {0};
        Function<byte[], Fuzz.Mutant> mutator = seed -> {
            if (n[0]++ % 2 == 0) return fuzz.mutate(seed);
            int headerEnd = 8 + (int) Fuzz.readLe(seed, 0, 8);
            Fuzz.Mutant header = fuzz.mutate(Arrays.copyOfRange(seed, 8, headerEnd));
            byte[] bytes = Fuzz.concat(le64(header.bytes().length), header.bytes(), Arrays.copyOfRange(seed, headerEnd, seed.length));
            return new Fuzz.Mutant(bytes, "header only: " + header.description());
        };
        Fuzz.Stats stats = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> fuzz.run(seeds, 1200, dir, Duration.ofSeconds(10), SafeTensorsFuzzTest::readAll, mutator));
        // both outcomes occur, so the mutants neither all die at the first check nor all miss the parts that matter
        assertTrue(stats.accepted() > 50 && stats.rejected() > 1000, stats.toString());
    }
}
