package bloom4j.tensor.io;

import bloom4j.tensor.DType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fixture's expected values (io.safetensors, F32 or I64 per tensor) as plain Java arrays, for bit-exact assertions. */
final class ExpectedTensors {
    /** Expected values of one tensor: exactly one of {@code floats} and {@code longs} is set. */
    record Expected(long[] shape, float[] floats, long[] longs) {}

    private ExpectedTensors() {}

    static Map<String, Expected> read(Path file) throws IOException {
        Map<String, Expected> out = new LinkedHashMap<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            for (String name : f.names()) {
                RawTensor t = f.raw(name);
                ByteBuffer b = t.bytes();
                int n = Math.toIntExact(t.numel());
                if (t.dtype() == DType.F32) {
                    float[] v = new float[n];
                    b.asFloatBuffer().get(v);
                    out.put(name, new Expected(t.shape(), v, null));
                } else if (t.dtype() == DType.I64) {
                    long[] v = new long[n];
                    b.asLongBuffer().get(v);
                    out.put(name, new Expected(t.shape(), null, v));
                } else {
                    throw new IllegalStateException(file + ": expected values are F32 or I64, " + name + " is " + t.dtype());
                }
            }
        }
        return out;
    }
}
