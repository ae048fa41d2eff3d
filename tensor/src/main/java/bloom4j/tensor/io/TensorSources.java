package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Views over {@link TensorSource}s. */
public final class TensorSources {
    private TensorSources() {}

    /**
     * {@code base} with some tensors replaced by arrays (a merged adapter, for instance): names and order are the base's, plus any
     * new name at the end. Closing the view closes nothing; the caller keeps owning {@code base}.
     */
    public static TensorSource overlay(TensorSource base, Map<String, INDArray> top) {
        List<String> names = new ArrayList<>(base.names());
        for (String n : top.keySet()) if (!base.contains(n)) names.add(n);
        List<String> all = List.copyOf(names);
        return new TensorSource() {
            @Override public String description() { return top.size() + " replaced tensor(s) over " + base.description(); }

            @Override public List<String> names() { return all; }

            @Override public boolean contains(String name) { return top.containsKey(name) || base.contains(name); }

            @Override public TensorInfo info(String name) throws IOException {
                INDArray a = top.get(name);
                return a == null ? base.info(name) : new TensorInfo(name, DType.of(a.dataType()), a.shape());
            }

            @Override public RawTensor raw(String name) throws IOException {
                INDArray a = top.get(name);
                return a == null ? base.raw(name) : RawTensor.of(a);
            }

            @Override public void close() { /* the base belongs to the caller */ }
        };
    }

    /** A view of a source that records which tensors were read ({@link #tracked}). */
    public interface Tracked extends TensorSource {
        /** Names read so far through {@link #raw} (or the {@code load} defaults built on it). */
        java.util.Set<String> read();

        /** Names never read, in source order. */
        default List<String> unread() {
            List<String> out = new ArrayList<>();
            for (String n : names()) if (!read().contains(n)) out.add(n);
            return out;
        }
    }

    /**
     * {@code base} recording every tensor read, so that a loader made of several parts (graphs, kernels reading arrays directly)
     * can report at the end which tensors none of them used. Closing the view closes nothing.
     */
    public static Tracked tracked(TensorSource base) {
        java.util.Set<String> read = java.util.Collections.synchronizedSet(new java.util.LinkedHashSet<>());
        return new Tracked() {
            @Override public java.util.Set<String> read() { return java.util.Collections.unmodifiableSet(read); }

            @Override public String description() { return base.description(); }

            @Override public List<String> names() { return base.names(); }

            @Override public boolean contains(String name) { return base.contains(name); }

            @Override public TensorInfo info(String name) throws IOException { return base.info(name); }

            @Override public RawTensor raw(String name) throws IOException {
                RawTensor r = base.raw(name);
                read.add(name);
                return r;
            }

            @Override public void close() { /* the base belongs to the caller */ }
        };
    }
}
