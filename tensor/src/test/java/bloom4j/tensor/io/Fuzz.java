package bloom4j.tensor.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A seeded mutation engine for fuzzing file readers, and a harness asserting that a reader given mutated files either succeeds or
 * throws {@link CheckpointException}: never another exception, an {@link OutOfMemoryError}, or a hang.
 *
 * <p>Mutations are format-agnostic byte edits (bit flips, interesting bytes and little-endian integers, truncation, extension,
 * insertion, deletion, chunk duplication) plus two aimed at text embedded in binary formats (JSON headers, pickle strings):
 * replacing a run of decimal digits with a boundary number and swapping one quoted string for another from the same input.
 * Integer fields known to matter (a length prefix, a zip offset) can be registered with {@link #hotField} so that they are hit often.
 *
 * <pre>{@code
 * Fuzz.Stats s = new Fuzz(42).hotField(0, 8).run(seeds, 1000, tmpDir, Duration.ofSeconds(10), file -> {
 *     try (TensorSource src = SafeTensorsFile.open(file)) { for (String n : src.names()) src.raw(n); }
 * });
 * }</pre>
 */
public final class Fuzz {

    /** A mutated input, and the mutations that made it (printed when it breaks the reader). */
    public record Mutant(byte[] bytes, String description) {}

    /** Reads everything in a file; the harness calls it once per mutant. */
    @FunctionalInterface
    public interface Reader {
        void readAll(Path file) throws Exception;
    }

    /** How mutants fared: read successfully, or rejected with a {@link CheckpointException}. */
    public record Stats(int accepted, int rejected) {}

    private record Field(int offset, int width) {}

    private static final byte[] INTERESTING_BYTES = {0, 1, (byte) 0xFF, 0x7F, (byte) 0x80, '{', '}', '[', ']', '"', ',', ':', '-',
            '0', '9', ' ', '\\', 'e', '.'};

    private static final String[] INTERESTING_NUMBERS = {"0", "1", "-1", "2", "7", "8", "255", "256", "65536", "2147483647",
            "2147483648", "4294967295", "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "100000000", "100000001", "1e3", "2.5", "-0", "00", ""};

    private final SplittableRandom rnd;
    private final List<Field> hotFields = new ArrayList<>();

    public Fuzz(long seed) { this.rnd = new SplittableRandom(seed); }

    /** Registers a little-endian integer field of {@code width} bytes (1, 2, 4 or 8) at {@code offset} as worth mutating often. */
    public Fuzz hotField(int offset, int width) {
        if (width != 1 && width != 2 && width != 4 && width != 8) throw new IllegalArgumentException("width " + width);
        hotFields.add(new Field(offset, width));
        return this;
    }

    /** One to four stacked random mutations of {@code input} (which is not modified). */
    public Mutant mutate(byte[] input) {
        byte[] b = input.clone();
        StringBuilder what = new StringBuilder();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            b = mutateOnce(b, what);
            what.append("; ");
        }
        return new Mutant(b, what.toString());
    }

    private byte[] mutateOnce(byte[] b, StringBuilder what) {
        int kind = rnd.nextInt(11);
        if (b.length == 0 && kind != 6) kind = 6; // nothing to edit in place: grow instead
        switch (kind) {
            case 0 -> {
                int pos = rnd.nextInt(b.length);
                int bit = rnd.nextInt(8);
                b[pos] ^= (byte) (1 << bit);
                what.append("flip bit ").append(bit).append(" at ").append(pos);
            }
            case 1 -> {
                int pos = rnd.nextInt(b.length);
                b[pos] = (byte) rnd.nextInt(256);
                what.append("random byte at ").append(pos);
            }
            case 2 -> {
                int pos = rnd.nextInt(b.length);
                b[pos] = INTERESTING_BYTES[rnd.nextInt(INTERESTING_BYTES.length)];
                what.append("byte ").append(b[pos] & 0xFF).append(" at ").append(pos);
            }
            case 3 -> {
                Field f = !hotFields.isEmpty() && rnd.nextInt(3) > 0 ? hotFields.get(rnd.nextInt(hotFields.size()))
                        : new Field(rnd.nextInt(b.length), 1 << rnd.nextInt(4));
                long v = interestingInt(b.length);
                writeLe(b, f.offset, f.width, v);
                what.append("int").append(8 * f.width).append(' ').append(v).append(" at ").append(f.offset);
            }
            case 4 -> {
                int len = rnd.nextInt(b.length);
                what.append("truncate to ").append(len);
                return Arrays.copyOf(b, len);
            }
            case 5 -> {
                int pos = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(16, b.length - pos));
                what.append("delete ").append(len).append(" at ").append(pos);
                return concat(Arrays.copyOfRange(b, 0, pos), Arrays.copyOfRange(b, pos + len, b.length));
            }
            case 6 -> {
                int pos = rnd.nextInt(b.length + 1);
                byte[] ins = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 64)];
                if (rnd.nextBoolean()) {
                    for (int i = 0; i < ins.length; i++) ins[i] = (byte) rnd.nextInt(256);
                } else {
                    for (int i = 0; i < ins.length; i++) ins[i] = INTERESTING_BYTES[rnd.nextInt(INTERESTING_BYTES.length)];
                }
                what.append("insert ").append(ins.length).append(" at ").append(pos);
                return concat(Arrays.copyOfRange(b, 0, pos), ins, Arrays.copyOfRange(b, pos, b.length));
            }
            case 7 -> {
                int from = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(64, b.length - from));
                int to = rnd.nextInt(b.length + 1);
                byte[] chunk = Arrays.copyOfRange(b, from, from + len);
                what.append("copy ").append(len).append(" from ").append(from).append(" to ").append(to);
                if (rnd.nextBoolean()) return concat(Arrays.copyOfRange(b, 0, to), chunk, Arrays.copyOfRange(b, to, b.length));
                System.arraycopy(chunk, 0, b, to, Math.min(len, b.length - to));
            }
            case 8 -> {
                int[] run = randomRun(b, c -> c >= '0' && c <= '9');
                if (run == null) return mutateOnce(b, what);
                String number = rnd.nextInt(4) == 0 ? Long.toString(b.length + rnd.nextInt(-16, 17))
                        : INTERESTING_NUMBERS[rnd.nextInt(INTERESTING_NUMBERS.length)];
                what.append("number ").append(number).append(" at ").append(run[0]);
                return splice(b, run[0], run[1], number.getBytes(StandardCharsets.US_ASCII));
            }
            case 9 -> {
                int[] a = randomQuoted(b);
                int[] c = randomQuoted(b);
                if (a == null || c == null) return mutateOnce(b, what);
                what.append("string at ").append(c[0]).append(" replaces string at ").append(a[0]);
                return splice(b, a[0], a[1], Arrays.copyOfRange(b, c[0], c[1]));
            }
            default -> {
                byte[] tail = new byte[1 + rnd.nextInt(64)];
                if (rnd.nextBoolean()) for (int i = 0; i < tail.length; i++) tail[i] = (byte) rnd.nextInt(256);
                what.append("append ").append(tail.length);
                return concat(b, tail);
            }
        }
        return b;
    }

    private long interestingInt(int length) {
        return switch (rnd.nextInt(12)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> -1;
            case 3 -> length;
            case 4 -> length + rnd.nextInt(-16, 17);
            case 5 -> Integer.MAX_VALUE;
            case 6 -> 1L << 31;
            case 7 -> 1L << 32;
            case 8 -> Long.MAX_VALUE;
            case 9 -> Long.MIN_VALUE;
            case 10 -> 100_000_000 + rnd.nextInt(-1, 2);
            default -> rnd.nextLong();
        };
    }

    private static void writeLe(byte[] b, int offset, int width, long v) {
        for (int i = 0; i < width && offset + i < b.length; i++) b[offset + i] = (byte) (v >>> (8 * i));
    }

    /** {@code [start, end)} of a maximal run of bytes matching {@code p} around a random matching byte, or null. */
    private int[] randomRun(byte[] b, IntPredicate p) {
        int start = rnd.nextInt(b.length);
        for (int k = 0; k < b.length; k++) {
            int i = (start + k) % b.length;
            if (p.test(b[i] & 0xFF)) {
                int s = i;
                int e = i;
                while (s > 0 && p.test(b[s - 1] & 0xFF)) s--;
                while (e < b.length && p.test(b[e] & 0xFF)) e++;
                return new int[] {s, e};
            }
        }
        return null;
    }

    /** {@code [start, end)} of a double-quoted string (quotes included) starting at a random quote, or null. */
    private int[] randomQuoted(byte[] b) {
        int start = rnd.nextInt(b.length);
        for (int k = 0; k < b.length; k++) {
            int i = (start + k) % b.length;
            if (b[i] == '"') {
                for (int j = i + 1; j < b.length && j < i + 4096; j++) {
                    if (b[j] == '"' && b[j - 1] != '\\') return new int[] {i, j + 1};
                }
                return null;
            }
        }
        return null;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] replacement) {
        return concat(Arrays.copyOfRange(b, 0, from), replacement, Arrays.copyOfRange(b, to, b.length));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /** A little-endian integer of {@code width} bytes at {@code offset}. */
    public static long readLe(byte[] b, int offset, int width) {
        return switch (width) {
            case 8 -> ByteBuffer.wrap(b, offset, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            case 4 -> ByteBuffer.wrap(b, offset, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
            case 2 -> ByteBuffer.wrap(b, offset, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
            default -> b[offset] & 0xFF;
        };
    }

    /**
     * Runs {@code reader} on {@code count} mutants of each seed, written one at a time to a file in {@code workDir}, and fails on the
     * first outcome other than success or {@link CheckpointException} (the failing input is kept in {@code workDir} as
     * {@code failure.bin}, and the message names its seed, index and mutations).
     */
    public Stats run(List<byte[]> seeds, int count, Path workDir, Duration perCase, Reader reader) {
        return run(seeds, count, workDir, perCase, reader, this::mutate);
    }

    /** As {@link #run(List, int, Path, Duration, Reader)}, making mutants with {@code mutator} (e.g. a format-aware wrapper). */
    public Stats run(List<byte[]> seeds, int count, Path workDir, Duration perCase, Reader reader,
            Function<byte[], Mutant> mutator) {
        return run(seeds, count, workDir, perCase, reader, mutator, (t, f) -> t instanceof CheckpointException);
    }

    /** Whether a reader's exception is a clean refusal of {@code file} (the right type, a message that names what is wrong). */
    @FunctionalInterface
    public interface Refusal {
        boolean isClean(Throwable t, Path file);
    }

    /** As {@link #run(List, int, Path, Duration, Reader, Function)}, with another rule for what counts as a clean refusal. */
    public Stats run(List<byte[]> seeds, int count, Path workDir, Duration perCase, Reader reader,
            Function<byte[], Mutant> mutator, Refusal clean) {
        Path file = workDir.resolve("mutant.bin");
        int accepted = 0;
        int rejected = 0;
        for (int s = 0; s < seeds.size(); s++) {
            for (int i = 0; i < count; i++) {
                Mutant m = mutator.apply(seeds.get(s));
                String where = "seed " + s + ", mutant " + i + " (" + m.description() + ")";
                Throwable outcome;
                try {
                    Files.write(file, m.bytes());
                    outcome = assertTimeoutPreemptively(perCase, () -> {
                        try {
                            reader.readAll(file);
                            return null;
                        } catch (Throwable t) {
                            return t;
                        }
                    }, () -> "reader hung on " + where);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                if (outcome == null) {
                    accepted++;
                } else if (clean.isClean(outcome, file)) {
                    rejected++;
                } else {
                    try {
                        Files.write(workDir.resolve("failure.bin"), m.bytes());
                    } catch (IOException e) {
                        outcome.addSuppressed(e);
                    }
                    fail("reader threw " + outcome + " on " + where, outcome);
                }
            }
        }
        return new Stats(accepted, rejected);
    }
}
