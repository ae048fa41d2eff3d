package bloom4j.nn;

import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * A dotted path into the parameter namespace of one SameDiff graph, after candle's {@code VarBuilder}: {@code pp} descends,
 * {@link #key} names a tensor, {@link #param} creates it in the graph.
 *
 * <pre>{@code
 * Scope layer = Scope.root(sd, source).pp("model.layers").pp(3);
 * layer.pp("self_attn.q_proj").key("weight");          // "model.layers.3.self_attn.q_proj.weight"
 * SDVariable w = layer.pp("self_attn.q_proj").param("weight", 1536, 1536);
 * }</pre>
 *
 * <p>Scopes are immutable and cheap; all of them over one graph share one {@link Params}, which holds the source, the
 * {@link LoadOptions} (dtype, trainability, missing-key policy) and the record of what was consumed. The same layer code serves
 * inference (frozen constants from a checkpoint) and training (trainable variables, adapters initialised by rule).
 */
public final class Scope {
    private final Params params;
    private final String path;

    Scope(Params params, String path) {
        this.params = params;
        this.path = path;
    }

    /** The root scope over a checkpoint, with {@link LoadOptions#inference()}. */
    public static Scope root(SameDiff sd, TensorSource source) {
        return root(sd, ParamSource.of(source), LoadOptions.inference());
    }

    /** The root scope over an in-memory map, with {@link LoadOptions#inference()}. */
    public static Scope root(SameDiff sd, Map<String, INDArray> tensors) {
        return root(sd, ParamSource.of(tensors), LoadOptions.inference());
    }

    public static Scope root(SameDiff sd, ParamSource source, LoadOptions options) {
        return new Params(sd, source, options).root();
    }

    /** Descends into {@code name}, which may itself be dotted ("self_attn.q_proj", "ff.ff.0"). */
    public Scope pp(String name) {
        if (name == null || name.isEmpty() || name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
            throw new IllegalArgumentException("bad scope segment '" + name + "' under '" + path + "'");
        }
        return new Scope(params, path.isEmpty() ? name : path + "." + name);
    }

    /** Descends into a list index: {@code pp("layers").pp(3)} is "layers.3", as PyTorch names ModuleList entries. */
    public Scope pp(int index) {
        if (index < 0) throw new IllegalArgumentException("negative index " + index + " under '" + path + "'");
        return pp(Integer.toString(index));
    }

    /** The full dotted key of {@code leaf} in this scope. */
    public String key(String leaf) { return pp(leaf).path; }

    /** This scope's dotted path ("" at the root). */
    public String path() { return path; }

    /** Whether the source holds {@code leaf} (buffers that some checkpoints omit, optional biases). */
    public boolean has(String leaf) { return params.source().contains(key(leaf)); }

    /**
     * The parameter {@code leaf} with the given shape, from the source: shape-checked (the error names the key, both shapes and the
     * source), converted to the graph dtype, and created as a trainable variable or frozen constant by the trainability policy.
     * Asking twice for one key returns the same variable.
     */
    public SDVariable param(String leaf, long... shape) { return params.get(key(leaf), shape.clone(), null); }

    /** As {@link #param(String, long...)}, but if the source lacks the key it is created by {@code init} (and recorded as such). */
    public SDVariable param(String leaf, Init init, long... shape) { return params.get(key(leaf), shape.clone(), init); }

    /**
     * Whether the adapter policy ({@link LoadOptions#adapters()}) wraps the linear layer at this scope. Layers that fuse frozen
     * projections ask this before fusing.
     */
    public boolean adapted() { return params.options().adapters().targets(path); }

    /**
     * Marks {@code leaf} as read without making a parameter of it (a buffer the computation does not need, such as BatchNorm's
     * {@code num_batches_tracked}), so it is not reported unused; nothing happens if the source lacks it.
     */
    public void markRead(String leaf) { params.markRead(key(leaf)); }

    /** Whether the trainability policy makes {@code leaf} here trainable. */
    public boolean trainable(String leaf) { return params.isTrainable(key(leaf)); }

    /**
     * The value of {@code leaf} (shape-checked, in the graph dtype, counted as consumed) without creating a graph variable, for
     * layers that merge frozen tensors at load time; see {@link #derivedConstant}.
     */
    public INDArray array(String leaf, long... shape) { return params.array(key(leaf), shape.clone(), null); }

    /**
     * Adds a frozen tensor computed from source tensors (such as q/k/v weights concatenated into one) under the name {@code leaf}
     * here. Its name is not a checkpoint key, so choose one that says what it was made from ({@code "q_proj+k_proj+v_proj.weight"}).
     */
    public SDVariable derivedConstant(String leaf, INDArray value) { return params.derivedConstant(key(leaf), value); }

    public SameDiff sd() { return params.sd(); }

    /** The graph's floating type (FLOAT for inference, DOUBLE for gradient checks). */
    public DataType dtype() { return params.options().dtype(); }

    public Params params() { return params; }

    @Override public String toString() { return "Scope(" + (path.isEmpty() ? "<root>" : path) + ")"; }
}
