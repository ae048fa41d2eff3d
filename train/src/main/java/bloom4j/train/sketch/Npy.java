package bloom4j.train.sketch;

import bloom4j.tensor.util.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy {@code .npy} v1.0 for 1-D int32 arrays (the sketch cache) and C-order float32 arrays (latents): write atomically, read back. */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    private static final Pattern HEADER = Pattern.compile("'descr':\\s*'([<>|]?)i([48])'.*'fortran_order':\\s*False.*'shape':\\s*\\((\\d+),?\\)");

    private Npy() {}

    public static void writeInt32(Path file, int[] v) throws IOException {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + v.length + ",), }";
        int total = MAGIC.length + 2 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";            // pad so the data starts 64-byte aligned
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + header.length() + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (int x : v) b.putInt(x);
        AtomicFiles.writeBytes(file, b.array());
    }

    private static final Pattern FLOAT_HEADER =
            Pattern.compile("'descr':\\s*'<f4'.*'fortran_order':\\s*False.*'shape':\\s*\\(([\\d,\\s]*)\\)");

    /** A C-order little-endian float32 array of {@code shape}. */
    public static void writeFloat32(Path file, float[] v, long... shape) throws IOException {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != v.length) throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " does not hold " + v.length + " values");
        StringBuilder sh = new StringBuilder();
        for (long d : shape) sh.append(d).append(", ");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + (shape.length == 1 ? shape[0] + "," : sh.substring(0, sh.length() - 2)) + "), }";
        int total = MAGIC.length + 2 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + header.length() + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        for (float x : v) b.putFloat(x);
        AtomicFiles.writeBytes(file, b.array());
    }

    /** The bytes of a .npy file, its header text and where the data starts. */
    private record Parsed(ByteBuffer bytes, String header, int dataStart) { }

    private static Parsed parse(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.capacity() < 10) throw new IOException(file + ": not a .npy file (" + b.capacity() + " bytes)");
        for (int i = 0; i < MAGIC.length - 2; i++) {
            if (b.get(i) != MAGIC[i]) throw new IOException(file + ": not a .npy file");
        }
        int len = b.get(6) == 1 ? b.getShort(8) & 0xFFFF : b.getInt(8);
        int start = b.get(6) == 1 ? 10 : 12;
        if (start + len > b.capacity()) throw new IOException(file + ": truncated .npy header");
        return new Parsed(b, new String(b.array(), start, len, StandardCharsets.US_ASCII), start + len);
    }

    /** A float32 array read back: its shape and values in C order. */
    public record Floats(long[] shape, float[] values) { }

    /** A C-order little-endian float32 array of any rank. */
    public static Floats readFloats(Path file) throws IOException {
        Parsed p = parse(file);
        ByteBuffer b = p.bytes();
        Matcher m = FLOAT_HEADER.matcher(p.header());
        if (!m.find()) throw new IOException(file + ": expected a C-order little-endian float32 array, header " + p.header().trim());
        long[] shape = java.util.Arrays.stream(m.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
        long n = 1;
        for (long d : shape) n *= d;
        int at = p.dataStart();
        if (b.capacity() - at != 4 * n) throw new IOException(file + ": holds " + (b.capacity() - at) + " data bytes, shape " + java.util.Arrays.toString(shape) + " needs " + 4 * n);
        float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) out[i] = b.getFloat(at + 4 * i);
        return new Floats(shape, out);
    }

    /** A 1-D little-endian int32 or int64 array (values must fit in int). */
    public static int[] readInts(Path file) throws IOException {
        Parsed p = parse(file);
        ByteBuffer b = p.bytes();
        Matcher m = HEADER.matcher(p.header());
        if (!m.find() || m.group(1).equals(">")) {
            throw new IOException(file + ": expected a 1-D little-endian int32/int64 array, header " + p.header().trim());
        }
        int n = Integer.parseInt(m.group(3)), width = Integer.parseInt(m.group(2));
        int at = p.dataStart();
        if (b.capacity() - at < (long) width * n) throw new IOException(file + ": truncated: " + n + " values announced");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = width == 4 ? b.getInt(at + 4 * i) : Math.toIntExact(b.getLong(at + 8 * i));
        return out;
    }
}
