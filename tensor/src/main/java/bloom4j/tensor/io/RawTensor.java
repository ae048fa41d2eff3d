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
 */
public record RawTensor(DType dtype, long[] shape, ByteBuffer data) {

    public RawTensor {
        shape = shape.clone();
        long expected = Math.multiplyExact(Shapes.numel(shape), (long) dtype.bits()) / 8;
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor " + dtype + Arrays.toString(shape) + " needs " + expected + " bytes, got "
                    + data.remaining());
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override public long[] shape() { return shape.clone(); }

    public long numel() { return Shapes.numel(shape); }

    /** Bytes as a fresh little-endian view positioned at 0. */
    public ByteBuffer bytes() { return data.duplicate().order(ByteOrder.LITTLE_ENDIAN); }

    /** The tensor as an ND4J array of its own dtype (I64 as LONG, BF16 as BFLOAT16, ...). */
    public INDArray toINDArray() {
        DataType t = dtype.nd4j();
        if (t == null) throw new UnsupportedOperationException("ND4J has no type for " + dtype + "; convert with toINDArray(FLOAT)");
        INDArray out = Nd4j.createUninitialized(t, shape, 'c');
        if (numel() > 0) {
            ByteBuffer dst = out.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
            dst.put(bytes());
        }
        return out;
    }

    /**
     * The tensor converted to {@code target}. Floating types widen exactly and narrow with round-to-nearest-even; integer and bool
     * sources convert by value. Converting a floating tensor to an integer type is refused (it would silently truncate).
     */
    public INDArray toINDArray(DataType target) {
        if (dtype.nd4j() == target) return toINDArray();
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new UnsupportedOperationException("tensor of " + n + " elements is too large to convert; load it in its own dtype");
        }
        ByteBuffer b = bytes();
        if (target == DataType.FLOAT || target == DataType.HALF || target == DataType.BFLOAT16) {
            float[] f = new float[(int) n];
            for (int i = 0; i < n; i++) f[i] = (float) doubleAt(b, i);
            INDArray a = Nd4j.create(f, shape, 'c');
            if (target == DataType.FLOAT) return a;
            return narrowed(f, target);
        }
        if (target == DataType.DOUBLE) {
            double[] d = new double[(int) n];
            for (int i = 0; i < n; i++) d[i] = doubleAt(b, i);
            return Nd4j.create(d, shape, 'c');
        }
        if (target.isIntType() || target == DataType.BOOL) {
            if (dtype.isFloatingPoint()) {
                throw new IllegalArgumentException("refusing to convert floating tensor " + dtype + " to integer type " + target);
            }
            long[] v = new long[(int) n];
            for (int i = 0; i < n; i++) v[i] = longAt(b, i);
            return Nd4j.createFromArray(v).reshape('c', shape).castTo(target);
        }
        throw new UnsupportedOperationException("conversion of " + dtype + " to " + target);
    }

    private INDArray narrowed(float[] f, DataType target) {
        INDArray out = Nd4j.createUninitialized(target, shape, 'c');
        if (f.length == 0) return out;
        ByteBuffer dst = out.data().asNio().order(ByteOrder.LITTLE_ENDIAN);
        for (float v : f) dst.putShort(target == DataType.HALF ? Floats.floatToF16(v) : Floats.floatToBf16(v));
        return out;
    }

    /** Element i as a double (exact for every type except 64-bit integers beyond 2^53). */
    public double doubleAt(ByteBuffer b, long i) {
        int idx = Math.toIntExact(i);
        return switch (dtype) {
            case F32 -> b.getFloat(idx * 4);
            case F64 -> b.getDouble(idx * 8);
            case F16 -> Floats.f16ToFloat(b.getShort(idx * 2));
            case BF16 -> Floats.bf16ToFloat(b.getShort(idx * 2));
            default -> {
                if (!dtype.isInteger()) throw new UnsupportedOperationException("no numeric conversion for " + dtype);
                yield longAt(b, i);
            }
        };
    }

    /** Element i of an integer or bool tensor as a long (U64 above 2^63 wraps, as Java longs do). */
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

    /** Wraps an ND4J array (copied into a C-ordered little-endian heap buffer) for writing. */
    public static RawTensor of(INDArray a) {
        DType d = DType.of(a.dataType());
        INDArray c = a.isView() || a.ordering() != 'c' || a.data().length() != a.length() ? a.dup('c') : a;
        long bytes = Math.multiplyExact(c.length(), (long) d.byteSize());
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes > 0) buf.put(c.data().asNio().order(ByteOrder.LITTLE_ENDIAN).limit((int) bytes));
        buf.flip();
        return new RawTensor(d, a.shape(), buf);
    }
}
