package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Shapes;
import bloom4j.tensor.TensorInfo;

import java.io.IOException;
import java.util.Arrays;

/**
 * A tensor leaf of a PyTorch checkpoint's object tree: a strided view (offset, shape, strides, all in elements) into one storage
 * record of the archive, exactly as {@code torch._utils._rebuild_tensor_v2} describes it. No data is read until {@link #raw()}.
 *
 * <p>Several tensors may view the same storage (tied weights, slices, transposes); each reads its own elements. Equality is
 * identity, as for torch tensors used as dict keys.
 */
public final class PtTensor {
    private final PtCheckpoint source;
    private final String storageKey;
    private final DType dtype;
    private final long storageOffset;
    private final long[] shape;
    private final long[] stride;
    private final boolean requiresGrad;
    private final boolean parameter;

    PtTensor(PtCheckpoint source, String storageKey, DType dtype, long storageOffset, long[] shape, long[] stride,
             boolean requiresGrad, boolean parameter) {
        this.source = source;
        this.storageKey = storageKey;
        this.dtype = dtype;
        this.storageOffset = storageOffset;
        this.shape = shape.clone();
        this.stride = stride.clone();
        this.requiresGrad = requiresGrad;
        this.parameter = parameter;
    }

    /** The same view marked as an {@code nn.Parameter} ({@code _rebuild_parameter}). */
    PtTensor asParameter(boolean requiresGrad) {
        return new PtTensor(source, storageKey, dtype, storageOffset, shape, stride, requiresGrad, true);
    }

    public DType dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    /** Strides in elements, one per dimension. */
    public long[] stride() { return stride.clone(); }

    /** Offset of element (0, ..., 0) in its storage, in elements. */
    public long storageOffset() { return storageOffset; }

    /** The storage record's key: the data lives in {@code <root>/data/<key>}. */
    public String storageKey() { return storageKey; }

    public boolean requiresGrad() { return requiresGrad; }

    /** Whether it was saved as an {@code nn.Parameter} rather than a plain tensor. */
    public boolean isParameter() { return parameter; }

    public long numel() { return Shapes.numel(shape); }

    /** torch's {@code is_contiguous()}: C-order strides, ignoring dimensions of size 1; empty tensors are contiguous. */
    public boolean isContiguous() {
        if (numel() == 0) return true;
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1) {
                if (stride[i] != expected) return false;
                expected *= shape[i];
            }
        }
        return true;
    }

    /** Name, dtype and shape, under the given name. */
    public TensorInfo info(String name) { return new TensorInfo(name, dtype, shape); }

    /**
     * The tensor's elements, C-contiguous little-endian. A contiguous tensor of a little-endian archive is a slice of the
     * memory-mapped storage (valid while the checkpoint is open); any other view is gathered into a new heap buffer.
     */
    public RawTensor raw() throws IOException { return source.read(this); }

    @Override public String toString() {
        return "PtTensor(" + dtype + Arrays.toString(shape) + ", storage " + storageKey + ", offset " + storageOffset + ", stride "
                + Arrays.toString(stride) + ")";
    }
}
