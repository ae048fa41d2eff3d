package bloom4j.nn;

import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Named parameter tensors as a {@link Scope} reads them: a checkpoint ({@link TensorSource}) or an in-memory map (tests, adapters built
 * in code). Keys are the checkpoint's dotted names; {@link #load} returns a fresh array the caller owns, converted to the asked type.
 */
public interface ParamSource {

    /** Where the tensors come from, for error messages ("model.safetensors", "in-memory map of 12 tensors"). */
    String description();

    /** All keys, in the source's order. */
    List<String> keys();

    boolean contains(String key);

    /** The stored shape of {@code key}; the key must be present. */
    long[] shape(String key);

    /** The tensor converted to {@code dtype}, as a new array not shared with the source. The key must be present. */
    INDArray load(String key, DataType dtype);

    /** A source with no tensors, for graphs whose parameters are all initialised by rule. */
    static ParamSource empty() { return of(Map.of(), "empty source"); }

    /** An in-memory map; the arrays are copied on load, so later changes to the map's arrays do not reach the graph. */
    static ParamSource of(Map<String, INDArray> tensors) {
        return of(tensors, "in-memory map of " + tensors.size() + " tensors");
    }

    /**
     * An in-memory map whose arrays are handed to graphs as they are, not copied: for a model that builds several graphs over one
     * set of frozen weights (one per input shape), which would otherwise hold a copy each. Arrays of another dtype than asked are
     * converted (a copy). Graphs must not write these arrays: use it for frozen constants only.
     */
    static ParamSource shared(Map<String, INDArray> tensors, String description) {
        Map<String, INDArray> view = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        List<String> keys = List.copyOf(view.keySet());
        return new ParamSource() {
            @Override public String description() { return description; }
            @Override public List<String> keys() { return keys; }
            @Override public boolean contains(String key) { return view.containsKey(key); }
            @Override public long[] shape(String key) { return get(key).shape(); }
            @Override public INDArray load(String key, DataType dtype) {
                INDArray a = get(key);
                requireConvertible(key, a.dataType().isFPType(), a.dataType().toString(), dtype, description);
                return a.dataType() == dtype ? a : a.castTo(dtype);
            }
            private INDArray get(String key) {
                INDArray a = view.get(key);
                if (a == null) throw new ParameterException(key, "no tensor '" + key + "' in " + description);
                return a;
            }
        };
    }

    static ParamSource of(Map<String, INDArray> tensors, String description) {
        Map<String, INDArray> copy = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        List<String> keys = List.copyOf(copy.keySet());
        return new ParamSource() {
            @Override public String description() { return description; }
            @Override public List<String> keys() { return keys; }
            @Override public boolean contains(String key) { return copy.containsKey(key); }
            @Override public long[] shape(String key) { return get(key).shape(); }
            @Override public INDArray load(String key, DataType dtype) {
                INDArray a = get(key);
                requireConvertible(key, a.dataType().isFPType(), a.dataType().toString(), dtype, description);
                // castTo returns the same array when the type already matches: dup so the graph never aliases the caller's map.
                return a.dataType() == dtype ? a.dup('c') : a.castTo(dtype).dup('c');
            }
            private INDArray get(String key) {
                INDArray a = copy.get(key);
                if (a == null) throw new ParameterException(key, "no tensor '" + key + "' in " + description);
                return a;
            }
        };
    }

    /**
     * {@code top} over {@code base}: a key present in {@code top} is read from it, every other key from {@code base}. Loading an adapter
     * (its tensors named as the graph names them) over a base checkpoint is the use: adapter keys a model never asks for show up in
     * {@link Params#unused()}.
     */
    static ParamSource overlay(ParamSource base, ParamSource top) {
        List<String> keys = new java.util.ArrayList<>(base.keys());
        for (String k : top.keys()) if (!base.contains(k)) keys.add(k);
        List<String> all = List.copyOf(keys);
        String description = top.description() + " over " + base.description();
        return new ParamSource() {
            @Override public String description() { return description; }
            @Override public List<String> keys() { return all; }
            @Override public boolean contains(String key) { return top.contains(key) || base.contains(key); }
            @Override public long[] shape(String key) { return top.contains(key) ? top.shape(key) : base.shape(key); }
            @Override public INDArray load(String key, DataType dtype) {
                return top.contains(key) ? top.load(key, dtype) : base.load(key, dtype);
            }
        };
    }

    /** A checkpoint. Reading errors surface as {@link ParameterException} with the {@link IOException} as cause. */
    static ParamSource of(TensorSource source) {
        List<String> keys = List.copyOf(source.names());
        Set<String> present = new HashSet<>(keys);
        return new ParamSource() {
            @Override public String description() { return source.description(); }
            @Override public List<String> keys() { return keys; }
            @Override public boolean contains(String key) { return present.contains(key); }
            @Override public long[] shape(String key) {
                try {
                    return source.info(key).shape();
                } catch (IOException e) {
                    throw new ParameterException(key, "cannot read the header of '" + key + "' in " + source.description(), e);
                }
            }
            @Override public INDArray load(String key, DataType dtype) {
                try {
                    bloom4j.tensor.DType stored = source.dtype(key);
                    requireConvertible(key, stored.isFloatingPoint(), stored.name(), dtype, source.description());
                    return source.load(key, dtype);
                } catch (IOException e) {
                    throw new ParameterException(key, "cannot read '" + key + "' from " + source.description(), e);
                }
            }
        };
    }

    /**
     * Refuses to read an integer or boolean tensor as a floating parameter: a checkpoint with {@code int64} where a weight belongs is
     * broken or not the model's, and a silent cast would hide it.
     */
    private static void requireConvertible(String key, boolean storedFloating, String stored, DataType target, String where) {
        if (target.isFPType() && !storedFloating) {
            throw new ParameterException(key, "'" + key + "' in " + where + " is " + stored + ", expected a floating-point weight ("
                    + target + "); the checkpoint does not hold this model's weights under that name");
        }
    }
}
