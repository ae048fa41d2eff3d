package bloom4j.convert;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** What a checkpoint holds: its tensors (name, dtype, shape) in file order, plus format-level metadata. */
public record Inspection(Path file, String format, List<TensorInfo> tensors, Map<String, String> metadata, ModelKind kind) {

    public long totalElements() { return tensors.stream().mapToLong(TensorInfo::numel).sum(); }

    public long totalBytes() { return tensors.stream().mapToLong(TensorInfo::byteSize).sum(); }

    /** Element counts per dtype, in dtype order. */
    public Map<DType, Long> elementsByDtype() {
        Map<DType, Long> m = new EnumMap<>(DType.class);
        for (TensorInfo t : tensors) m.merge(t.dtype(), t.numel(), Long::sum);
        return m;
    }
}
