package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The parameters of one SameDiff graph: the state every {@link Scope} over that graph shares. It creates each parameter once (a second
 * request for the same key returns the same variable, which is how tied weights work), and remembers which source keys were consumed,
 * which were initialised by rule and which were missing, so that a model can report them after loading.
 */
public final class Params {
    private static final Logger log = LoggerFactory.getLogger(Params.class);

    private final SameDiff sd;
    private final ParamSource source;
    private final LoadOptions options;
    private final Map<String, SDVariable> created = new LinkedHashMap<>();
    private final Set<String> consumed = new LinkedHashSet<>();
    private final Map<String, String> initialised = new LinkedHashMap<>();
    private final Map<String, long[]> missing = new LinkedHashMap<>();

    public Params(SameDiff sd, ParamSource source, LoadOptions options) {
        this.sd = sd;
        this.source = source;
        this.options = options;
    }

    /** The scope with an empty path. */
    public Scope root() { return new Scope(this, ""); }

    public SameDiff sd() { return sd; }

    public ParamSource source() { return source; }

    public LoadOptions options() { return options; }

    /**
     * The parameter {@code key} of {@code shape}: taken from the source if present (shape-checked, converted to the graph dtype),
     * otherwise made by {@code init}, then by {@link LoadOptions#missingInit()}; otherwise recorded as missing (deferred mode) or
     * refused.
     */
    SDVariable get(String key, long[] shape, Init init) {
        SDVariable existing = created.get(key);
        if (existing != null) {
            long[] have = existing.getArr().shape();
            if (!Arrays.equals(have, shape)) {
                throw new ParameterException(key, "parameter '" + key + "' requested as " + Arrays.toString(shape)
                        + " but already created as " + Arrays.toString(have));
            }
            return existing;
        }
        INDArray value = array(key, shape, init);
        // The full dotted key is the SameDiff name: SameDiff's own name scopes join with '/' and not every overload honours them.
        SDVariable v = isTrainable(key) ? sd.var(key, value) : sd.constant(key, value);
        created.put(key, v);
        return v;
    }

    /**
     * The value of {@code key} as {@link #get} would create it, without adding it to the graph: for layers that merge frozen tensors at
     * load time (fused projections). The key counts as consumed.
     */
    INDArray array(String key, long[] shape, Init init) {
        INDArray value;
        if (source.contains(key)) {
            long[] stored = source.shape(key);
            if (!Arrays.equals(stored, shape)) {
                throw new ParameterException(key, "shape mismatch for '" + key + "': expected " + Arrays.toString(shape) + ", got "
                        + Arrays.toString(stored) + " in " + source.description());
            }
            value = source.load(key, options.dtype());
            requireFinite(key, value);
            consumed.add(key);
        } else {
            Init rule = init != null ? init : options.missingInit();
            if (rule != null) {
                value = rule.create(key, shape.clone(), options.dtype());
                initialised.put(key, rule.describe());
                log.debug("initialised '{}' {} by {}", key, Arrays.toString(shape), rule.describe());
            } else if (options.deferMissing()) {
                value = Init.zeros().create(key, shape.clone(), options.dtype());
                missing.put(key, shape.clone());
            } else {
                throw new ParameterException(key, missingMessage(key, shape));
            }
        }
        if (!Arrays.equals(value.shape(), shape)) {
            throw new ParameterException(key, "'" + key + "' was made with shape " + Arrays.toString(value.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        return value;
    }

    /**
     * Records {@code key} as read although no layer makes a parameter of it: a buffer with no role in the computation (BatchNorm's
     * {@code num_batches_tracked}), so that it is not reported unused. Absent keys are ignored.
     */
    void markRead(String key) {
        if (source.contains(key)) consumed.add(key);
    }

    /** Whether the trainability policy makes {@code key} a trainable variable. */
    public boolean isTrainable(String key) { return options.trainable().test(key); }

    /** Adds a frozen tensor derived from source tensors (a fused weight) under {@code name}, recorded with the parameters. */
    SDVariable derivedConstant(String name, INDArray value) {
        if (created.containsKey(name)) throw new ParameterException(name, "parameter '" + name + "' already exists");
        SDVariable v = sd.constant(name, value);
        created.put(name, v);
        return v;
    }

    /**
     * A NaN or infinity in a stored weight is an error naming it: it would otherwise flow to silent all-zero or NaN outputs. One
     * sum over the tensor decides (a finite sum means every element is finite); only a non-finite sum, which a huge finite tensor can
     * also give, scans the elements.
     */
    private void requireFinite(String key, INDArray value) {
        if (!value.dataType().isFPType() || value.length() == 0 || Double.isFinite(value.sumNumber().doubleValue())) return;
        double[] v = value.dup('c').data().asDouble();
        long nan = 0, inf = 0;
        long first = -1;
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) nan++;
            else if (Double.isInfinite(v[i])) inf++;
            else continue;
            if (first < 0) first = i;
        }
        if (nan + inf == 0) return;
        throw new ParameterException(key, "'" + key + "' in " + source.description() + " holds " + nan + " NaN and " + inf
                + " infinite values (first at flat index " + first + " of " + v.length + "): the checkpoint is corrupt or was saved"
                + " after training diverged");
    }

    private String missingMessage(String key, long[] shape) {
        String msg = "missing '" + key + "' " + Arrays.toString(shape) + " in " + source.description();
        // Point at keys sharing the last two path segments: usually the same tensor under another naming scheme.
        String[] parts = key.split("\\.");
        String tail = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : key;
        List<String> similar = source.keys().stream().filter(k -> k.endsWith(tail)).limit(3).collect(Collectors.toList());
        if (!similar.isEmpty()) msg += "; found similar " + similar;
        return msg;
    }

    /** Every parameter created so far, by full key, in creation order. */
    public Map<String, SDVariable> variables() { return Collections.unmodifiableMap(created); }

    /** The trainable ({@code VariableType.VARIABLE}) parameters, in creation order. */
    public List<SDVariable> trainable() {
        List<SDVariable> out = new ArrayList<>();
        for (SDVariable v : created.values()) if (v.getVariableType() == VariableType.VARIABLE) out.add(v);
        return out;
    }

    /** Source keys read into the graph. */
    public Set<String> consumed() { return Collections.unmodifiableSet(consumed); }

    /** Keys created by an init rule, with the rule's description. */
    public Map<String, String> initialised() { return Collections.unmodifiableMap(initialised); }

    /** Keys absent from the source and stood in for by zeros (deferred mode only), with the expected shapes. */
    public Map<String, long[]> missing() { return Collections.unmodifiableMap(missing); }

    /** Source keys no layer asked for, in source order. */
    public List<String> unused() {
        List<String> out = new ArrayList<>();
        for (String k : source.keys()) if (!consumed.contains(k)) out.add(k);
        return out;
    }

    /**
     * Fails if any key was missing, or if a source key was left unused and {@code unusedOk} does not accept it (non-persistent buffers,
     * heads a model does not build). The message lists every offending key.
     */
    public void requireComplete(Predicate<String> unusedOk) {
        List<String> unused = unused().stream().filter(unusedOk.negate()).collect(Collectors.toList());
        requireComplete(source.description(), missing, unused, source::shape, null);
    }

    /**
     * The one completeness report of a load, for loaders made of several graphs or kernels as well as a single {@code Params}:
     * fails listing every missing key (with its expected shape) and every unused source key (with its stored shape).
     *
     * @param description the source, for the message
     * @param missing     keys the model needed and the source lacked, with their expected shapes
     * @param unused      source keys no part of the model read (already filtered by what the model may leave unread)
     * @param shapeOf     stored shape of a source key
     * @param advice      what to check, appended to the message (or null)
     */
    public static void requireComplete(String description, Map<String, long[]> missing, List<String> unused,
                                       java.util.function.Function<String, long[]> shapeOf, String advice) {
        if (missing.isEmpty() && unused.isEmpty()) return;
        StringBuilder b = new StringBuilder("parameters of " + description + " do not match the model:");
        if (!missing.isEmpty()) {
            b.append("\n  missing ").append(missing.size()).append(':');
            missing.forEach((k, sh) -> b.append("\n    ").append(k).append(' ').append(Arrays.toString(sh)));
        }
        if (!unused.isEmpty()) {
            b.append("\n  unused ").append(unused.size()).append(':');
            unused.forEach(k -> b.append("\n    ").append(k).append(' ').append(Arrays.toString(shapeOf.apply(k))));
        }
        if (advice != null) b.append("\n  ").append(advice);
        throw new ParameterException(missing.isEmpty() ? unused.get(0) : missing.keySet().iterator().next(), b.toString());
    }

    /** One line: counts of created, trainable, consumed, initialised, missing and unused keys. */
    public String summary() {
        return String.format("%d parameters (%d trainable): %d from %s, %d initialised, %d missing, %d source keys unused",
                created.size(), trainable().size(), consumed.size(), source.description(), initialised.size(), missing.size(),
                unused().size());
    }
}
