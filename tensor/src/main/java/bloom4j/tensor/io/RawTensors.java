package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Floats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Operations on {@link RawTensor}s that stay outside ND4J (for converting checkpoints without materialising arrays). */
public final class RawTensors {
    private RawTensors() {}

    /**
     * Casts a floating tensor to another floating dtype among F32/F64/F16/BF16 (widening exact, narrowing round-to-nearest-even,
     * as torch's {@code .to(dtype)}). Integer and bool tensors are returned unchanged: a checkpoint's int64 buffers keep their type.
     */
    public static RawTensor castFloating(RawTensor t, DType target) {
        if (t.dtype() == target || !t.dtype().isFloatingPoint()) return t;
        if (!isConvertible(t.dtype()) || !isConvertible(target)) {
            throw new UnsupportedOperationException("cannot convert " + t.dtype() + " to " + target);
        }
        long n = t.numel();
        ByteBuffer src = t.bytes();
        ByteBuffer dst = ByteBuffer.allocate(Math.toIntExact(Math.multiplyExact(n, (long) target.byteSize())))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            double v = t.doubleAt(src, i);
            switch (target) {
                case F32 -> dst.putFloat((float) v);
                case F64 -> dst.putDouble(v);
                // an F64 source narrows to F16/BF16 through float32: a double rounding only on exact ties at the 29th bit
                case F16 -> dst.putShort(Floats.floatToF16((float) v));
                case BF16 -> dst.putShort(Floats.floatToBf16((float) v));
                default -> throw new AssertionError(target);
            }
        }
        dst.flip();
        return new RawTensor(target, t.shape(), dst);
    }

    private static boolean isConvertible(DType d) {
        return d == DType.F32 || d == DType.F64 || d == DType.F16 || d == DType.BF16;
    }
}
