package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Which linear layers of a model get an adapter (LoRA, DoRA), and how to build it: the hook {@link LoadOptions} carries so that
 * model code stays unaware of adapters. Every {@link Linear#load} asks {@link #targets} with its module path (the scope path,
 * {@code model.layers.3.self_attn.q_proj}) and, when targeted, replaces its forward by the adapter's. Layers that fuse frozen
 * projections at load time ({@link Attention#separate}) ask first and keep targeted projections separate.
 *
 * <p>An implementation is stateful for one model build: it sees every module path and remembers the layers it built, so that it can
 * report what matched, save the adapter tensors and merge them. The implementation is {@code bloom4j.nn.lora.LoraAdapters}.
 */
public interface LinearAdapters {

    /** No adapters anywhere. */
    LinearAdapters NONE = new LinearAdapters() {
        @Override public boolean targets(String modulePath) { return false; }
        @Override public Adapter wrap(Scope module, Linear base) {
            throw new IllegalStateException("no adapter targets '" + module.path() + "'");
        }
        @Override public boolean isAdapterKey(String key) { return false; }
        @Override public String toString() { return "no adapters"; }
    };

    /** Whether the linear layer at {@code modulePath} gets an adapter. Called for every linear a model builds, so it can record them. */
    boolean targets(String modulePath);

    /** Builds the adapter around {@code base}, creating its parameters under {@code module}; only called when {@link #targets} said so. */
    Adapter wrap(Scope module, Linear base);

    /** Whether a full parameter key is one of an adapter's tensors ({@code ….lora_A.weight}): the trainability policy uses this. */
    boolean isAdapterKey(String key);

    /** A linear layer's forward with an adapter: rows {@code [N, in] → [N, out]}, base output included. */
    interface Adapter {
        SDVariable forwardRows(SDVariable x);
    }
}
