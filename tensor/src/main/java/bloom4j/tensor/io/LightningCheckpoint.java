package bloom4j.tensor.io;

import bloom4j.tensor.pickle.PyObject;
import bloom4j.tensor.pickle.PyTuple;
import bloom4j.tensor.pickle.Unpickler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A PyTorch Lightning {@code .ckpt}: the dict {@code Trainer.save_checkpoint} writes ({@code epoch}, {@code global_step},
 * {@code pytorch-lightning_version}, {@code state_dict}, loops, callbacks, optimizer and scheduler states, {@code hparams_name},
 * {@code hyper_parameters}, ...). The weights are {@link #stateDict()}; the rest is available as read from the pickle, with
 * omegaconf containers as recorded {@link PyObject}s ({@link #plainHyperParameters()} turns those into plain maps and lists).
 */
public final class LightningCheckpoint implements AutoCloseable {
    private static final int MAX_DEPTH = 200;

    private final PtCheckpoint checkpoint;
    private final Map<?, ?> top;

    private LightningCheckpoint(PtCheckpoint checkpoint, Map<?, ?> top) {
        this.checkpoint = checkpoint;
        this.top = top;
    }

    /** Opens a Lightning checkpoint; refuses a file whose top level is not a dict with a {@code state_dict}. */
    public static LightningCheckpoint open(Path file) throws IOException {
        PtCheckpoint c = PtCheckpoint.open(file);
        try {
            return of(c);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Views an open checkpoint as a Lightning checkpoint (closing either closes the file). */
    public static LightningCheckpoint of(PtCheckpoint checkpoint) throws CheckpointException {
        if (!(checkpoint.root() instanceof Map<?, ?> m) || !(m.get("state_dict") instanceof Map<?, ?>)) {
            throw new CheckpointException(checkpoint.file(), "not a Lightning checkpoint: the top level is a "
                    + Unpickler.typeName(checkpoint.root()) + " without a 'state_dict' dict");
        }
        return new LightningCheckpoint(checkpoint, m);
    }

    public PtCheckpoint checkpoint() { return checkpoint; }

    /** The model weights, {@code state_dict}, with the LightningModule attribute paths as names. */
    public TensorSource stateDict() throws CheckpointException { return checkpoint.tensors("state_dict"); }

    /** {@code epoch}, if the file has it. */
    public OptionalLong epoch() throws CheckpointException { return integer("epoch"); }

    /** {@code global_step} (optimizer steps taken), if the file has it. */
    public OptionalLong globalStep() throws CheckpointException { return integer("global_step"); }

    /** {@code pytorch-lightning_version}, e.g. {@code "2.2.1"}. */
    public Optional<String> lightningVersion() throws CheckpointException { return string("pytorch-lightning_version"); }

    /** {@code hparams_name}: the name of the init argument the hyper-parameters came from ({@code "cfg"}), if any. */
    public Optional<String> hparamsName() throws CheckpointException { return string("hparams_name"); }

    /**
     * {@code hyper_parameters} as stored: a dict, or an omegaconf {@code DictConfig} recorded as a {@link PyObject}; null when the
     * model saved none (or saved None).
     */
    public Object hyperParameters() { return top.get("hyper_parameters"); }

    /**
     * {@link #hyperParameters()} with every omegaconf container and value node replaced by its content, as
     * {@code OmegaConf.to_container(cfg)} would give it: {@code DictConfig} → map, {@code ListConfig} → list, nodes → their value.
     * Interpolations stay as their {@code "${...}"} strings, missing values as {@code "???"}.
     */
    public Object plainHyperParameters() throws CheckpointException { return plain(hyperParameters(), 0); }

    /** The top-level dict as read, including loops, callbacks, optimizer and scheduler states. */
    public Map<?, ?> entries() { return top; }

    private Object plain(Object v, int depth) throws CheckpointException {
        if (depth > MAX_DEPTH) throw new CheckpointException(checkpoint.file(), "hyper_parameters nested deeper than " + MAX_DEPTH);
        if (v instanceof PyObject o && o.type().module().startsWith("omegaconf.")) {
            String cls = o.type().name();
            if (cls.equals("DictConfig") || cls.equals("ListConfig")) return plain(o.attributes().get("_content"), depth + 1);
            if (o.type().module().equals("omegaconf.nodes")) return plain(o.attributes().get("_val"), depth + 1);
            return v;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(e.getKey(), plain(e.getValue(), depth + 1));
            return out;
        }
        if (v instanceof List<?> || v instanceof PyTuple) {
            List<Object> out = new ArrayList<>();
            for (Object x : v instanceof PyTuple t ? t.items() : (List<?>) v) out.add(plain(x, depth + 1));
            return v instanceof PyTuple ? new PyTuple(out) : out;
        }
        return v;
    }

    private OptionalLong integer(String key) throws CheckpointException {
        Object v = top.get(key);
        if (v == null) return OptionalLong.empty();
        if (!(v instanceof Long l)) {
            throw new CheckpointException(checkpoint.file(), key + " is a " + Unpickler.typeName(v) + ", not an int");
        }
        return OptionalLong.of(l);
    }

    private Optional<String> string(String key) throws CheckpointException {
        Object v = top.get(key);
        if (v == null) return Optional.empty();
        if (!(v instanceof String s)) {
            throw new CheckpointException(checkpoint.file(), key + " is a " + Unpickler.typeName(v) + ", not a str");
        }
        return Optional.of(s);
    }

    @Override public void close() throws IOException { checkpoint.close(); }
}
