package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Floats;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RawTensorTest {

    /** Every dtype ND4J can hold. */
    static final List<DType> ND4J_TYPES = List.of(DType.BOOL, DType.U8, DType.I8, DType.I16, DType.U16, DType.F16, DType.BF16,
            DType.I32, DType.U32, DType.F32, DType.F64, DType.I64, DType.U64);

    /** Sample values per dtype (exactly representable, incl. the type's extremes), as doubles; U64 extremes are in longs(). */
    static double[] values(DType t) {
        return switch (t) {
            case BOOL -> new double[] {0, 1, 1, 0};
            case U8 -> new double[] {0, 1, 200, 255};
            case I8 -> new double[] {-128, -1, 0, 127};
            case I16 -> new double[] {-32768, -2, 3, 32767};
            case U16 -> new double[] {0, 1, 40000, 65535};
            case I32 -> new double[] {Integer.MIN_VALUE, -5, 7, Integer.MAX_VALUE};
            case U32 -> new double[] {0, 1, 3e9, 4294967295.0};
            case I64 -> new double[] {-(double) (1L << 53), -3, 9, 1L << 53};
            case U64 -> new double[] {0, 2, 1L << 40, 1L << 53};
            case F16 -> new double[] {-65504, -0.0, 0x1p-24, 1.5};
            case BF16 -> new double[] {-0x1p100, -0.0, 0.333984375, 3.0};
            case F32 -> new double[] {-1.25, 0x1p-149, Float.MAX_VALUE, 0.1f};
            case F64 -> new double[] {-1.25, Double.MIN_VALUE, 0.1, 1e300};
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /** {@code v} encoded as {@code t}, little-endian. */
    static ByteBuffer encode(DType t, double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            switch (t) {
                case BOOL, U8, I8 -> b.put((byte) (long) x);
                case I16, U16 -> b.putShort((short) (long) x);
                case F16 -> b.putShort(Floats.floatToF16((float) x));
                case BF16 -> b.putShort(Floats.floatToBf16((float) x));
                case I32, U32 -> b.putInt((int) (long) x);
                case F32 -> b.putFloat((float) x);
                case F64 -> b.putDouble(x);
                case I64, U64 -> b.putLong((long) x);
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return b.flip();
    }

    static RawTensor raw(DType t, long[] shape, double... v) { return new RawTensor(t, shape, encode(t, v)); }

    static RawTensor sample(DType t) { return raw(t, new long[] {2, 2}, values(t)); }

    @Test
    void toINDArrayKeepsEveryDtypeAndValue() {
        for (DType t : ND4J_TYPES) {
            INDArray a = sample(t).toINDArray();
            assertEquals(t.nd4j(), a.dataType(), t.toString());
            assertArrayEquals(new long[] {2, 2}, a.shape());
            assertEquals('c', a.ordering());
            double[] v = values(t);
            for (int i = 0; i < 4; i++) {
                if (t == DType.U64 || t == DType.I64) assertEquals((long) v[i], a.getLong(i / 2, i % 2), t + "[" + i + "]");
                else assertEquals(v[i], a.getDouble(i / 2, i % 2), 0.0, t + "[" + i + "]");
            }
        }
    }

    @Test
    void toINDArrayOfScalarsAndEmptyTensors() {
        for (DType t : ND4J_TYPES) {
            double v = values(t)[3];
            INDArray s = raw(t, new long[0], v).toINDArray();
            assertEquals(0, s.rank(), t.toString());
            assertEquals(t.nd4j(), s.dataType());
            if (t == DType.U64 || t == DType.I64) assertEquals((long) v, s.getLong(0));
            else assertEquals(v, s.getDouble(0), 0.0, t.toString());

            INDArray e = raw(t, new long[] {0, 4}).toINDArray();
            assertTrue(e.isEmpty(), t.toString());
            assertArrayEquals(new long[] {0, 4}, e.shape());
            assertEquals(t.nd4j(), e.dataType());
            for (DataType target : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.HALF, DataType.BFLOAT16}) {
                INDArray c = raw(t, new long[] {0, 4}).toINDArray(target);
                assertArrayEquals(new long[] {0, 4}, c.shape(), t + " to " + target);
                assertEquals(target, c.dataType());
                INDArray cs = raw(t, new long[0], v).toINDArray(target);
                assertEquals(0, cs.rank());
                assertEquals(target, cs.dataType());
            }
            if (t.isInteger()) {
                assertArrayEquals(new long[] {0, 4}, raw(t, new long[] {0, 4}).toINDArray(DataType.LONG).shape());
                assertEquals(0, raw(t, new long[0], v).toINDArray(DataType.LONG).rank());
            }
        }
    }

    @Test
    void boolBytesAreNormalized() {
        RawTensor b = new RawTensor(DType.BOOL, new long[] {3}, ByteBuffer.wrap(new byte[] {2, 0, (byte) 0xFF}));
        INDArray a = b.toINDArray();
        assertEquals(2, a.castTo(DataType.INT).sumNumber().intValue());
        assertArrayEquals(new float[] {1, 0, 1}, b.toINDArray(DataType.FLOAT).toFloatVector());
        assertArrayEquals(new long[] {1, 0, 1}, b.toINDArray(DataType.LONG).toLongVector());
    }

    @Test
    void conversionsToFloatTypes() {
        for (DType t : ND4J_TYPES) {
            double[] v = values(t);
            RawTensor r = sample(t);
            INDArray f = r.toINDArray(DataType.FLOAT);
            INDArray d = r.toINDArray(DataType.DOUBLE);
            INDArray h = r.toINDArray(DataType.HALF);
            INDArray bf = r.toINDArray(DataType.BFLOAT16);
            for (INDArray a : new INDArray[] {f, d, h, bf}) assertArrayEquals(new long[] {2, 2}, a.shape());
            for (int i = 0; i < 4; i++) {
                float asFloat = (float) v[i];
                assertEquals(Float.floatToIntBits(asFloat), Float.floatToIntBits(f.getFloat(i / 2, i % 2)),
                        t + " to FLOAT [" + i + "]");
                assertEquals(v[i], d.getDouble(i / 2, i % 2), 0.0, t + " to DOUBLE [" + i + "]");
                assertEquals(Floats.floatToF16(asFloat), h.data().asNio().order(ByteOrder.LITTLE_ENDIAN).getShort(i * 2),
                        t + " to HALF [" + i + "]");
                assertEquals(Floats.floatToBf16(asFloat), bf.data().asNio().order(ByteOrder.LITTLE_ENDIAN).getShort(i * 2),
                        t + " to BFLOAT16 [" + i + "]");
            }
        }
    }

    @Test
    void conversionsToLong() {
        for (DType t : ND4J_TYPES) {
            if (!t.isInteger()) {
                assertThrows(IllegalArgumentException.class, () -> sample(t).toINDArray(DataType.LONG), t.toString());
                continue;
            }
            INDArray l = sample(t).toINDArray(DataType.LONG);
            assertEquals(DataType.LONG, l.dataType());
            double[] v = values(t);
            for (int i = 0; i < 4; i++) assertEquals((long) v[i], l.getLong(i / 2, i % 2), t + "[" + i + "]");
        }
        assertArrayEquals(new int[] {-1, 7}, raw(DType.U32, new long[] {2}, 4294967295.0, 7).toINDArray(DataType.INT).toIntVector());
    }

    @Test
    void largeIntegersRoundOnceToFloat() {
        // 2^60 + 2^36 + 1: through double it becomes 2^60 + 2^36, an exact float tie that goes to even 2^60; rounded once it is
        // just above the tie, so 2^60 + 2^37, as PyTorch's static_cast<float>(int64_t) gives.
        long v = (1L << 60) + (1L << 36) + 1;
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
        assertEquals(0x1p60f + 0x1p37f, new RawTensor(DType.I64, new long[] {1}, b).toINDArray(DataType.FLOAT).getFloat(0));
        // unsigned 64-bit values above 2^63
        ByteBuffer u = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L).putLong(8, Long.MIN_VALUE + 1);
        RawTensor r = new RawTensor(DType.U64, new long[] {2}, u);
        assertArrayEquals(new float[] {0x1p64f, 0x1p63f}, r.toINDArray(DataType.FLOAT).toFloatVector());
        assertArrayEquals(new double[] {0x1p64, 0x1p63}, r.toINDArray(DataType.DOUBLE).toDoubleVector());
        assertEquals(-1L, r.toINDArray().getLong(0)); // raw bits, as ND4J holds them
    }

    @Test
    void f64NarrowsThroughFloat32LikePyTorch() {
        // 1 + 2^-11 + 2^-40: nearest half is 1 + 2^-10, but float32 first rounds it to the tie 1 + 2^-11, which goes to even 1.0
        RawTensor r = raw(DType.F64, new long[] {1}, 1 + 0x1p-11 + 0x1p-40);
        assertEquals((short) 0x3C00, r.toINDArray(DataType.HALF).data().asNio().order(ByteOrder.LITTLE_ENDIAN).getShort(0));
    }

    @Test
    void unsupportedConversionsAreRefused() {
        RawTensor fp8 = new RawTensor(DType.F8_E4M3, new long[] {2}, ByteBuffer.allocate(2));
        assertThrows(UnsupportedOperationException.class, fp8::toINDArray);
        assertThrows(UnsupportedOperationException.class, () -> fp8.toINDArray(DataType.FLOAT));
        assertThrows(UnsupportedOperationException.class, () -> sample(DType.F32).toINDArray(DataType.UTF8));
        assertThrows(IllegalArgumentException.class, () -> sample(DType.F16).toINDArray(DataType.INT));
    }

    @Test
    void constructorValidates() {
        assertThrows(IllegalArgumentException.class, () -> new RawTensor(DType.F32, new long[] {2}, ByteBuffer.allocate(7)));
        assertThrows(IllegalArgumentException.class, () -> new RawTensor(DType.F32, new long[] {-1, -2}, ByteBuffer.allocate(8)));
        assertThrows(IllegalArgumentException.class, () -> new RawTensor(DType.F4, new long[] {3}, ByteBuffer.allocate(1)));
        assertEquals(2, new RawTensor(DType.F4, new long[] {4}, ByteBuffer.allocate(2)).byteSize());
        assertEquals(3, new RawTensor(DType.F6_E2M3, new long[] {4}, ByteBuffer.allocate(3)).byteSize());
    }

    @Test
    void readingTheBufferNeverDisturbsTheTensor() {
        ByteBuffer src = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3);
        src.position(4); // the tensor is the remaining bytes
        RawTensor r = new RawTensor(DType.F32, new long[] {2}, src);
        r.data().getFloat();
        r.data().position(8);
        r.bytes().getFloat();
        assertArrayEquals(new float[] {2, 3}, r.toINDArray().toFloatVector());
        assertEquals(8, r.data().remaining());
        assertEquals(raw(DType.F32, new long[] {2}, 2, 3), r);
        assertNotEquals(raw(DType.F32, new long[] {1, 2}, 2, 3), r);
    }

    // ---- RawTensor.of

    @Test
    void ofRoundTripsEveryDtype() {
        for (DType t : ND4J_TYPES) {
            RawTensor r = sample(t);
            assertEquals(r, RawTensor.of(r.toINDArray()), t.toString());
            RawTensor scalar = raw(t, new long[0], values(t)[1]);
            assertEquals(scalar, RawTensor.of(scalar.toINDArray()), t + " scalar");
            RawTensor empty = raw(t, new long[] {0, 4});
            assertEquals(empty, RawTensor.of(empty.toINDArray()), t + " empty");
        }
    }

    /** A [4, 6] float matrix holding 0..23 in C order. */
    private static INDArray matrix() { return Nd4j.arange(0, 24).castTo(DataType.FLOAT).reshape('c', 4, 6); }

    /** {@code a} as C-order floats computed element by element, independent of any buffer layout. */
    private static RawTensor expected(INDArray a) {
        long[] shape = a.shape();
        List<Double> v = new ArrayList<>();
        if (a.length() > 0) {
            for (long i = 0; i < a.length(); i++) {
                long[] idx = new long[shape.length];
                long rem = i;
                for (int k = shape.length - 1; k >= 0; k--) {
                    idx[k] = rem % shape[k];
                    rem /= shape[k];
                }
                v.add(shape.length == 0 ? a.getDouble(0) : a.getDouble(idx));
            }
        }
        return raw(DType.F32, shape, v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Test
    void ofCopiesViewsAndFortranOrderInCOrder() {
        INDArray m = matrix();
        List<INDArray> cases = List.of(
                m,
                m.getRow(2),                                                       // view at offset 12
                m.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()),            // contiguous rows at offset 6
                m.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 4)),            // strided column slice
                m.get(NDArrayIndex.interval(1, 4), NDArrayIndex.interval(1, 2, 5)), // strided both ways
                m.transpose(),                                                     // 'f'-ordered view
                m.dup('f'),                                                        // 'f'-ordered array
                Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, 'f'),
                m.getScalar(1, 2),                                                 // rank-0 view at offset 8
                Nd4j.scalar(3.5f),
                Nd4j.create(new float[] {1, 2, 3}, new long[] {1, 3}, 'c').broadcast(4, 3));
        for (INDArray a : cases) {
            RawTensor r = RawTensor.of(a);
            assertEquals(expected(a), r, "of(" + a.shapeInfoToString().replace('\n', ' ') + ")");
        }
        assertEquals(raw(DType.F32, new long[0], 8), RawTensor.of(m.getScalar(1, 2)));
        assertEquals(raw(DType.F32, new long[] {6}, 12, 13, 14, 15, 16, 17), RawTensor.of(m.getRow(2)));
    }

    @Test
    void ofEmptyArrays() {
        assertEquals(raw(DType.F32, new long[] {0, 4}), RawTensor.of(Nd4j.create(DataType.FLOAT, 0, 4)));
        assertEquals(raw(DType.F32, new long[] {0, 4}), RawTensor.of(Nd4j.create(new float[0], new long[] {0, 4}, 'c')));
        assertEquals(raw(DType.F32, new long[] {0, 6}), RawTensor.of(matrix().get(NDArrayIndex.interval(0, 0), NDArrayIndex.all())));
        assertEquals(raw(DType.F32, new long[] {0}), RawTensor.of(Nd4j.empty(DataType.FLOAT)));
        assertEquals(raw(DType.BF16, new long[] {3, 0}), RawTensor.of(Nd4j.create(DataType.BFLOAT16, 3, 0)));
    }

    @Test
    void ofRefusesTypesWithoutCheckpointDtype() {
        assertThrows(IllegalArgumentException.class, () -> RawTensor.of(Nd4j.create("a", "b")));
    }
}
