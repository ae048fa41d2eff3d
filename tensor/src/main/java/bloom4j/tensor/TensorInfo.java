package bloom4j.tensor;

import java.util.Arrays;

/** Name, element type and shape of one stored tensor, known without reading its data. */
public record TensorInfo(String name, DType dtype, long[] shape) {

    public TensorInfo {
        shape = shape.clone();
        for (long d : shape) if (d < 0) throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
    }

    /** Number of elements (1 for a scalar, 0 for an empty tensor). */
    public long numel() { return Shapes.numel(shape); }

    /** Bytes of data in C-contiguous storage. */
    public long byteSize() { return Math.multiplyExact(numel(), (long) dtype.bits()) / 8; }

    @Override public long[] shape() { return shape.clone(); }

    @Override public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override public String toString() { return name + " " + dtype + Arrays.toString(shape); }
}
