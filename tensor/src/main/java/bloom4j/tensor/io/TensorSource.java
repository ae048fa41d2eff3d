package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.List;

/**
 * Named tensors stored somewhere (a safetensors file, a set of shards, the state_dict of a PyTorch checkpoint), read lazily:
 * listing names and shapes reads no tensor data, and {@link #raw} copies only the tensor asked for.
 *
 * <p>Every model loads through this interface, whatever the file format, so model code never knows where its weights came from.
 */
public interface TensorSource extends AutoCloseable {

    /** A human-readable origin (the file path), used in error messages. */
    String description();

    /** Tensor names in the file's order. */
    List<String> names();

    default boolean contains(String name) { return names().contains(name); }

    /** Dtype and shape of one tensor; throws naming the source when it is absent. */
    TensorInfo info(String name) throws IOException;

    /** The tensor's data, C-contiguous little-endian, in its stored dtype. */
    RawTensor raw(String name) throws IOException;

    /** The tensor as an ND4J array of its stored dtype (see {@link RawTensor#toINDArray()}). */
    default INDArray load(String name) throws IOException { return raw(name).toINDArray(); }

    /** The tensor converted to the given ND4J type (floats widen exactly; F32 to BF16/F16 rounds to nearest even). */
    default INDArray load(String name, DataType type) throws IOException { return raw(name).toINDArray(type); }

    /** Shorthand for {@code load(name, DataType.FLOAT)}. */
    default INDArray loadFloat(String name) throws IOException { return load(name, DataType.FLOAT); }

    /** Total number of elements over all tensors. */
    default long totalElements() throws IOException {
        long n = 0;
        for (String s : names()) n += info(s).numel();
        return n;
    }

    /** Dtype of one tensor. */
    default DType dtype(String name) throws IOException { return info(name).dtype(); }

    @Override void close() throws IOException;
}
