package bloom4j.tensor.io;

import bloom4j.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** A dict of tensors of a {@link PtCheckpoint} as a {@link TensorSource}; names in pickle order. */
final class PtTensorSource implements TensorSource {
    private final Path file;
    private final String path;
    private final Map<String, PtTensor> tensors;
    private final List<String> names;
    private final PtCheckpoint owner;

    /**
     * @param path  the dict's key path in the checkpoint ("" for the top level), shown in the description
     * @param owner closed with this source, or null for a view whose checkpoint its user closes
     */
    PtTensorSource(Path file, String path, Map<String, PtTensor> tensors, PtCheckpoint owner) {
        this.file = file;
        this.path = path;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
        this.owner = owner;
    }

    /** The same tensors, owned by {@code owner}. */
    PtTensorSource ownedBy(PtCheckpoint owner) { return new PtTensorSource(file, path, tensors, owner); }

    @Override public String description() { return path.isEmpty() ? file.toString() : file + " [" + path + "]"; }

    @Override public List<String> names() { return names; }

    @Override public boolean contains(String name) { return tensors.containsKey(name); }

    @Override public TensorInfo info(String name) throws IOException { return tensor(name).info(name); }

    @Override public RawTensor raw(String name) throws IOException { return tensor(name).raw(); }

    private PtTensor tensor(String name) throws CheckpointException {
        PtTensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(file, "no tensor '" + name + "'" + (path.isEmpty() ? "" : " in " + path));
        return t;
    }

    @Override public void close() throws IOException {
        if (owner != null) owner.close();
    }
}
