package bloom4j.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by readers and writers. */
public final class Shapes {
    private Shapes() {}

    /** Product of the dimensions, with overflow checking (1 for a scalar). */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** C-order (row-major) strides in elements. */
    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc = Math.multiplyExact(acc, Math.max(shape[i], 1));
        }
        return s;
    }

    public static String str(long[] shape) { return Arrays.toString(shape); }
}
