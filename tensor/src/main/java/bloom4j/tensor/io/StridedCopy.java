package bloom4j.tensor.io;

import bloom4j.tensor.Shapes;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Copies of tensor views into C-contiguous buffers: the strided gather torch does in {@code .contiguous()}, and byte swapping. */
final class StridedCopy {
    private StridedCopy() {}

    /**
     * Gathers the elements of a strided view, in C order. The caller has checked that every reachable element
     * ({@code offset + Σ (shape[i]-1)·stride[i]}) lies in {@code storage} and that the result fits in a Java buffer.
     *
     * @param storage the whole storage, element 0 at position 0
     * @param elemSize bytes per element
     */
    static ByteBuffer gather(ByteBuffer storage, int elemSize, long offset, long[] shape, long[] stride) {
        long n = Shapes.numel(shape);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * elemSize)).order(ByteOrder.LITTLE_ENDIAN);
        if (n == 0) return out;
        int nd = shape.length;
        long inner = nd == 0 ? 1 : shape[nd - 1];
        long innerStride = nd == 0 ? 1 : stride[nd - 1];
        int outer = Math.max(nd - 1, 0);
        long[] idx = new long[outer];
        long base = offset;
        int o = 0;
        while (true) {
            if (innerStride == 1) { // a run of adjacent elements: one bulk copy
                int len = (int) (inner * elemSize);
                out.put(o, storage, (int) (base * elemSize), len);
                o += len;
            } else {
                for (long j = 0; j < inner; j++) {
                    out.put(o, storage, (int) ((base + j * innerStride) * elemSize), elemSize);
                    o += elemSize;
                }
            }
            int d = outer - 1; // odometer over the outer dimensions
            while (d >= 0) {
                idx[d]++;
                base += stride[d];
                if (idx[d] < shape[d]) break;
                base -= stride[d] * shape[d];
                idx[d] = 0;
                d--;
            }
            if (d < 0) return out;
        }
    }

    /** A copy with the bytes of every {@code unit}-byte group reversed (big-endian to little-endian). */
    static ByteBuffer swapped(ByteBuffer in, int unit) {
        ByteBuffer src = in.duplicate();
        int len = src.remaining();
        ByteBuffer out = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        int start = src.position();
        for (int i = 0; i < len; i += unit) {
            for (int j = 0; j < unit; j++) out.put(i + j, src.get(start + i + unit - 1 - j));
        }
        return out;
    }
}
