package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Floats;
import bloom4j.tensor.Shapes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor's bytes: C-contiguous, little-endian, in its stored {@link DType}. The buffer may be a slice of a memory-mapped file,
 * so it is valid only while its source is open; {@link #toINDArray()} copies it into ND4J memory.
 *
 * <p>One buffer holds at most 2 GiB − 1 bytes, so that is also the largest tensor a {@code RawTensor} can carry.
 */
public record RawTensor(DType dtype, long[] shape, ByteBuffer data) {

    public RawTensor {
        shape = shape.clone();
        for (long d : shape) if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
        long bits = Math.multiplyExact(Shapes.numel(shape), (long) dtype.bits());
        if (bits % 8 != 0) {
            throw new IllegalArgumentException(dtype + Arrays.toString(shape) + " is " + bits + " bits, not a whole number of bytes");
        }
        if (data.remaining() != bits / 8) {
            throw new IllegalArgumentException("tensor " + dtype + Arrays.toString(shape) + " needs " + bits / 8 + " bytes, got "
                    + data.remaining());
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override public long[] shape() { return shape.clone(); }

    /** The bytes as a fresh little-endian view positioned at 0 (same as {@link #bytes()}: reading it never disturbs this tensor). */
    @Override public ByteBuffer data() { return bytes(); }

    public long numel() { return Shapes.numel(shape); }

    /** Size of the data in bytes. */
    public int byteSize() { return data.capacity(); }

    /** Bytes as a fresh little-endian view positioned at 0. */
    public ByteBuffer bytes() { return data.duplicate().order(ByteOrder.LITTLE_ENDIAN); }

    /** The tensor as an ND4J array of its own dtype (I64 as LONG, BF16 as BFLOAT16, ...). BOOL bytes are normalized to 0/1. */
    public INDArray toINDArray() {
        DataType t = dtype.nd4j();
        if (t == null) throw new UnsupportedOperationException("ND4J has no type for " + dtype);
        INDArray out = Nd4j.createUninitialized(t, shape, 'c');
        if (numel() == 0) return out; // an empty array has no buffer to fill (its data() may even be null)
        ByteBuffer dst = out.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == DType.BOOL) {
            // ND4J casts and reductions read a BOOL byte as its integer value, so a stored 2 would count as 2
            for (int i = 0; i < data.capacity(); i++) dst.put(i, data.get(i) != 0 ? (byte) 1 : 0);
        } else {
            dst.put(bytes());
        }
        return out;
    }

    /**
     * The tensor converted to {@code target}. Floating types widen exactly and narrow with round-to-nearest-even (F64 to HALF or
     * BFLOAT16 goes through float32, as PyTorch's {@code c10::Half(float)} does); integer and bool sources convert by value
     * (out-of-range values wrap, as a C cast does). Converting a floating tensor to an integer type is refused (it would silently
     * truncate).
     */
    public INDArray toINDArray(DataType target) {
        if (dtype.nd4j() == target) return toINDArray();
        long count = numel();
        if (count > Integer.MAX_VALUE - 8) {
            throw new UnsupportedOperationException("tensor of " + count + " elements is too large to convert; load it in its own "
                    + "dtype");
        }
        int n = (int) count;
        switch (target) {
            case FLOAT -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) f[i] = floatAt(i);
                return Nd4j.create(f, shape, 'c');
            }
            case HALF, BFLOAT16 -> {
                INDArray out = Nd4j.createUninitialized(target, shape, 'c');
                if (n == 0) return out;
                ByteBuffer dst = out.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    float v = floatAt(i);
                    dst.putShort(2 * i, target == DataType.HALF ? Floats.floatToF16(v) : Floats.floatToBf16(v));
                }
                return out;
            }
            case DOUBLE -> {
                double[] d = new double[n];
                for (int i = 0; i < n; i++) d[i] = doubleAt(data, i);
                return Nd4j.create(d, shape, 'c');
            }
            default -> {
                if (!target.isIntType() && target != DataType.BOOL) {
                    throw new UnsupportedOperationException("conversion of " + dtype + " to " + target);
                }
                if (!dtype.isInteger()) {
                    throw new IllegalArgumentException("refusing to convert " + dtype + " tensor to integer type " + target);
                }
                long[] v = new long[n];
                for (int i = 0; i < n; i++) v[i] = longAt(data, i);
                return Nd4j.createFromArray(v).reshape('c', shape).castTo(target);
            }
        }
    }

    /** Element i as a float32, rounded once from its stored value (unlike going through {@link #doubleAt}). */
    private float floatAt(int i) {
        return switch (dtype) {
            case F32 -> data.getFloat(i * 4);
            case F64 -> (float) data.getDouble(i * 8);
            case F16 -> Floats.f16ToFloat(data.getShort(i * 2));
            case BF16 -> Floats.bf16ToFloat(data.getShort(i * 2));
            case U64 -> {
                long v = data.getLong(i * 8);
                // unsigned: halve keeping the lost bit as a sticky bit, so the one rounding step stays to-nearest-even
                yield v >= 0 ? (float) v : (float) ((v >>> 1) | (v & 1)) * 2f;
            }
            default -> {
                if (!dtype.isInteger()) throw new UnsupportedOperationException("no numeric conversion for " + dtype);
                yield (float) longAt(data, i);
            }
        };
    }

    /**
     * Element i of {@code b} (this tensor's {@link #bytes()}) as a double: exact for every type except 64-bit integers beyond 2^53,
     * which round to nearest (U64 as unsigned).
     */
    public double doubleAt(ByteBuffer b, long i) {
        int idx = Math.toIntExact(i);
        return switch (dtype) {
            case F32 -> b.getFloat(idx * 4);
            case F64 -> b.getDouble(idx * 8);
            case F16 -> Floats.f16ToFloat(b.getShort(idx * 2));
            case BF16 -> Floats.bf16ToFloat(b.getShort(idx * 2));
            case U64 -> {
                long v = b.getLong(idx * 8);
                yield v >= 0 ? (double) v : (double) ((v >>> 1) | (v & 1)) * 2.0; // sticky-bit halving, see floatAt
            }
            default -> {
                if (!dtype.isInteger()) throw new UnsupportedOperationException("no numeric conversion for " + dtype);
                yield longAt(b, i);
            }
        };
    }

    /** Element i of {@code b} (this tensor's {@link #bytes()}) as a long; bool as 0/1, U64 above 2^63 wraps, as Java longs do. */
    public long longAt(ByteBuffer b, long i) {
        int idx = Math.toIntExact(i);
        return switch (dtype) {
            case BOOL -> b.get(idx) != 0 ? 1 : 0;
            case U8 -> b.get(idx) & 0xFF;
            case I8 -> b.get(idx);
            case I16 -> b.getShort(idx * 2);
            case U16 -> b.getShort(idx * 2) & 0xFFFF;
            case I32 -> b.getInt(idx * 4);
            case U32 -> b.getInt(idx * 4) & 0xFFFFFFFFL;
            case I64, U64 -> b.getLong(idx * 8);
            default -> throw new UnsupportedOperationException(dtype + " is not an integer type");
        };
    }

    /**
     * Wraps an ND4J array (copied into a C-ordered little-endian heap buffer) for writing. Views, 'f'-ordered arrays, scalars and
     * empty arrays are all accepted; {@code Nd4j.empty()}, which reports shape [] while holding nothing, is stored as shape [0].
     */
    public static RawTensor of(INDArray a) {
        DType d = DType.of(a.dataType());
        if (a.isEmpty()) return new RawTensor(d, shapeOf(a), ByteBuffer.allocate(0));
        // asNio() exposes a view's whole backing buffer from index 0, ignoring the view's offset and strides, so only a plain
        // C-ordered array that owns its whole buffer is read directly; anything else is first copied into one.
        INDArray c = a.isView() || a.ordering() != 'c' || a.offset() != 0 || a.data().length() != a.length() ? a.dup('c') : a;
        long bytes = Math.multiplyExact(c.length(), (long) d.byteSize());
        if (bytes > Integer.MAX_VALUE) throw new IllegalArgumentException(bytes + " bytes is over the 2 GiB limit of one buffer");
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(c.data().asNio().order(ByteOrder.LITTLE_ENDIAN).limit((int) bytes));
        buf.flip();
        return new RawTensor(d, a.shape(), buf);
    }

    /** The shape an array is stored with: its own, except that {@code Nd4j.empty()} (shape [] yet no element) becomes [0]. */
    static long[] shapeOf(INDArray a) {
        return a.isEmpty() && Shapes.numel(a.shape()) != 0 ? new long[] {0} : a.shape();
    }

    @Override public boolean equals(Object o) {
        return o instanceof RawTensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.data.equals(data);
    }

    @Override public int hashCode() { return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + data.hashCode(); }

    @Override public String toString() { return dtype + Arrays.toString(shape) + " (" + data.capacity() + " bytes)"; }
}
