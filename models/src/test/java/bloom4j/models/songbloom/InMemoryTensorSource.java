package bloom4j.models.songbloom;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.TensorSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A {@link TensorSource} over float32 arrays held in memory, for tests. */
final class InMemoryTensorSource implements TensorSource {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> data = new LinkedHashMap<>();

    InMemoryTensorSource put(String name, float[] values, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != values.length) throw new IllegalArgumentException(name + ": " + values.length + " values for shape of " + n);
        shapes.put(name, shape.clone());
        data.put(name, values.clone());
        return this;
    }

    @Override public String description() { return "in-memory test source"; }

    @Override public List<String> names() { return new ArrayList<>(shapes.keySet()); }

    @Override public TensorInfo info(String name) throws IOException {
        if (!shapes.containsKey(name)) throw new IOException(description() + ": no tensor '" + name + "'");
        return new TensorInfo(name, DType.F32, shapes.get(name));
    }

    @Override public RawTensor raw(String name) throws IOException {
        TensorInfo info = info(name);
        float[] v = data.get(name);
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return new RawTensor(DType.F32, info.shape(), b);
    }

    @Override public void close() { }
}
