package bloom4j.nn.lora;

import bloom4j.nn.Init;
import bloom4j.nn.Linear;
import bloom4j.nn.LinearAdapters;
import bloom4j.nn.ParameterException;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * LoRA/DoRA adapters on the linear layers of one model build, chosen by a {@link LoraConfig} with PEFT's rules ({@link TargetSelector}).
 * Handed to {@link bloom4j.nn.LoadOptions#adapters}, it wraps every targeted {@link Linear} the model loads in a {@link LoraLinear}; the
 * model code does not change.
 *
 * <pre>{@code
 * LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(16, 32, Targets.names("q_proj", "v_proj")), 1).training(true);
 * Scope root = Scope.root(sd, base, LoadOptions.inference().adapters(lora, true));   // base frozen, adapters trainable
 * ... build the model ...
 * lora.requireMatched();                       // PEFT: "Target modules ... not found in the base model"
 * lora.save(dir);                              // adapter_config.json + adapter_model.safetensors, loadable by PEFT
 * }</pre>
 *
 * <p>Module names are scope paths relative to {@link #under root} (default: the graph root), which must equal the module paths
 * PEFT would see in the PyTorch model for the saved adapter to load there.
 *
 * <p>One instance serves one model build: it records every linear layer it was asked about and every adapter it built.
 */
public final class LoraAdapters implements LinearAdapters {
    private static final Logger log = LoggerFactory.getLogger(LoraAdapters.class);

    static final String A = "lora_A";
    static final String B = "lora_B";
    static final String MAGNITUDE = "lora_magnitude_vector";

    private final LoraConfig config;
    private final TargetSelector selector;
    private final boolean fresh;
    private final long seed;
    private final boolean training;
    private final String root;
    private final boolean normAsConstant;
    private final Set<String> seen = new LinkedHashSet<>();
    private final Map<String, LoraLinear> layers = new LinkedHashMap<>();

    private LoraAdapters(LoraConfig config, boolean fresh, long seed, boolean training, String root, boolean normAsConstant) {
        this.config = config;
        this.selector = new TargetSelector(config);
        this.fresh = fresh;
        this.seed = seed;
        this.training = training;
        this.root = root;
        this.normAsConstant = normAsConstant;
    }

    /**
     * New adapters, initialised as PEFT does ({@code init_lora_weights}: true = A kaiming-uniform a=√5 and B = 0, "gaussian" = A ~
     * N(0, 1/r²) and B = 0, false = A and B both nn.Linear's default), seeded per key; the DoRA magnitude starts at ‖W + s·B·A‖ per
     * row. Tensors the source already holds (resuming) are read from it instead.
     */
    public static LoraAdapters fresh(LoraConfig config, long seed) {
        String init = config.initLoraWeights().toLowerCase(java.util.Locale.ROOT);
        if (!init.equals("true") && !init.equals("false") && !init.equals("gaussian")) {
            throw new IllegalArgumentException("init_lora_weights '" + config.initLoraWeights() + "' is not implemented for a fresh adapter;"
                    + " use true, false or \"gaussian\" (an adapter trained with it still loads through LoraAdapters.load)");
        }
        return new LoraAdapters(config, true, seed, false, "", false);
    }

    /** Adapters whose tensors must all come from the parameter source (a loaded {@link PeftAdapter}); a missing one is an error. */
    public static LoraAdapters load(LoraConfig config) { return new LoraAdapters(config, false, 0, false, "", false); }

    /**
     * A training graph: with {@code lora_dropout > 0}, each adapter gets a dropout-mask placeholder to feed every step
     * ({@link #dropoutMasks}); DoRA then uses its training formula. Without, the graph computes the eval formula. A mask is
     * {@code [rows, in]}: the layer sees its input as rows whatever its rank ({@code [B, T, in]} is B·T rows, in C order), so a
     * mask recorded for a rank-3 input is fed reshaped to rows, as {@link #dropoutMasks(long, SplittableRandom)} makes them.
     */
    public LoraAdapters training(boolean on) { return new LoraAdapters(config, fresh, seed, on, root, normAsConstant); }

    /**
     * Module names are scope paths under {@code rootPath} ("" = the graph root): for a model whose scopes start with a prefix that the
     * PyTorch model PEFT wraps does not have. Linear layers outside it are never adapted.
     */
    public LoraAdapters under(String rootPath) { return new LoraAdapters(config, fresh, seed, training, rootPath, normAsConstant); }

    /** Gradient checks: the DoRA norm becomes a constant at its build-time value, which is what "detached" means numerically. */
    LoraAdapters normAsConstant() { return new LoraAdapters(config, fresh, seed, training, root, true); }

    public LoraConfig config() { return config; }

    public TargetSelector selector() { return selector; }

    /** The module name of a scope path, or null if the path lies outside {@link #under the root}. */
    String moduleName(String scopePath) {
        if (root.isEmpty()) return scopePath;
        return scopePath.startsWith(root + ".") ? scopePath.substring(root.length() + 1) : null;
    }

    /** The scope path of a module name. */
    String scopePath(String module) { return root.isEmpty() ? module : root + "." + module; }

    @Override public boolean targets(String modulePath) {
        String m = moduleName(modulePath);
        if (m == null) return false;
        seen.add(m);
        return selector.matches(m);
    }

    @Override public boolean isAdapterKey(String key) {
        return key.endsWith("." + A + ".weight") || key.endsWith("." + B + ".weight") || key.endsWith("." + MAGNITUDE);
    }

    @Override public Adapter wrap(Scope s, Linear base) {
        String module = moduleName(s.path());
        if (layers.containsKey(module)) throw new ParameterException(s.path(), "module '" + module + "' was adapted twice");
        int r = selector.rank(module);
        double alpha = selector.alpha(module);
        double scaling = config.scaling(r, alpha);
        long in = base.in(), out = base.out();
        SDVariable a, b, m = null;
        if (fresh) {
            String init = config.initLoraWeights().toLowerCase(java.util.Locale.ROOT);
            Init kaiming = Init.kaimingUniform(Math.sqrt(5), seed);
            Init initA = init.equals("gaussian") ? Init.normal(1.0 / r, seed) : kaiming;   // PEFT layer.py L338-340
            Init initB = init.equals("false") ? kaiming : Init.zeros();                    // false: nn.Linear's own init, B ~ U(±1/√r)
            a = s.pp(A).param("weight", initA, r, in);
            b = s.pp(B).param("weight", initB, out, r);
        } else {
            a = s.pp(A).param("weight", r, in);
            b = s.pp(B).param("weight", out, r);
        }
        if (config.useDora()) {
            if (fresh) {
                // PEFT dora.py L101-130: m = ‖W + s·B·A‖ per output row, from the adapter as just initialised.
                SDVariable fa = a, fb = b;
                Init norm = Init.named("‖W + s·B·A‖ per row (DoRA)", (k, shape, t) -> base.weight().getArr()
                        .add(fb.getArr().mmul(fa.getArr()).muli(scaling)).norm2(1).castTo(t));
                m = s.param(MAGNITUDE, norm, out);
            } else {
                m = s.param(MAGNITUDE, out);
            }
            warnZeroRows(module, base);
        }
        SDVariable mask = null;
        if (training && config.loraDropout() > 0) {
            mask = s.sd().placeHolder(s.key("lora_dropout.mask"), s.dtype(), -1, in);
        }
        LoraLinear l = new LoraLinear(module, base, a, b, m, mask, r, alpha, scaling, config.loraDropout(), normAsConstant);
        layers.put(module, l);
        return l;
    }

    /** PEFT adds no epsilon to the DoRA norm (issue #2049): a zero row of W gives 0/0. Warn rather than change the math. */
    private static void warnZeroRows(String module, Linear base) {
        INDArray norms = base.weight().getArr().norm2(1);
        long zero = norms.eq(0).castTo(DataType.INT32).sumNumber().longValue();
        if (zero > 0) {
            log.warn("DoRA on '{}': {} rows of the base weight are all zero; their weight norm is 0 and the output NaN once the adapter"
                    + " is non-zero (PEFT behaves the same, issue #2049)", module, zero);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------------------
    // After the build

    /** The adapters built, by module name, in build order. */
    public Map<String, LoraLinear> layers() { return Collections.unmodifiableMap(layers); }

    /** Every linear layer the model asked about, by module name. */
    public Set<String> linearModules() { return Collections.unmodifiableSet(seen); }

    /** Fails as PEFT does when the config matched no module, listing the linear layers the model has. */
    public void requireMatched() {
        if (!layers.isEmpty()) return;
        List<String> some = new ArrayList<>(seen);
        String list = some.size() > 12 ? some.subList(0, 12) + " and " + (some.size() - 12) + " more" : some.toString();
        throw new IllegalStateException("Target modules " + config.targetModules() + " not found in the base model"
                + (config.excludeModules() != null ? " (after excluding " + config.excludeModules() + ")" : "")
                + "; its linear layers are " + list);
    }

    /**
     * The adapter tensors by module-relative key ({@code <module>.lora_A.weight}, {@code .lora_B.weight},
     * {@code .lora_magnitude_vector}), the current values (not copies of the graph's arrays: dup before changing them).
     */
    public Map<String, INDArray> tensors() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (LoraLinear l : layers.values()) {
            out.put(l.module() + "." + A + ".weight", l.loraA().getArr());
            out.put(l.module() + "." + B + ".weight", l.loraB().getArr());
            if (l.dora()) out.put(l.module() + "." + MAGNITUDE, l.magnitude().getArr());
        }
        return out;
    }

    /** The trained adapter as PEFT saves it ({@link PeftAdapter#write}). */
    public PeftAdapter adapter() { return new PeftAdapter(config, tensors()); }

    /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} into {@code dir}. */
    public void save(java.nio.file.Path dir) throws java.io.IOException { adapter().write(dir); }

    /** Dropout-mask placeholders of the graph (empty unless {@link #training} with {@code lora_dropout > 0}). */
    public List<SDVariable> dropoutMasks() {
        List<SDVariable> out = new ArrayList<>();
        for (LoraLinear l : layers.values()) if (l.dropoutMask() != null) out.add(l.dropoutMask());
        return out;
    }

    /**
     * Fresh inverted-dropout masks for a step whose adapted layers see {@code rows} input rows (B·T): each element 0 with probability
     * p, else 1/(1−p), as {@code nn.Dropout}; drawn from {@code rng}, in the graph's dtype.
     */
    public Map<String, INDArray> dropoutMasks(long rows, SplittableRandom rng) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (LoraLinear l : layers.values()) {
            SDVariable mask = l.dropoutMask();
            if (mask == null) continue;
            long in = l.base().in();
            double p = l.dropout();
            float keep = (float) (1.0 / (1.0 - p));
            float[] v = new float[Math.toIntExact(Math.multiplyExact(rows, in))];
            for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble() < p ? 0f : keep;
            out.put(mask.name(), Nd4j.create(v, new long[] {rows, in}, 'c').castTo(mask.dataType()));
        }
        return out;
    }

    /** Masks of ones: the training graph then computes the eval output exactly (DoRA's two formulas agree when u = x). */
    public Map<String, INDArray> noDropout(long rows) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (SDVariable mask : dropoutMasks()) out.put(mask.name(), Nd4j.ones(mask.dataType(), rows, mask.getShape()[1]));
        return out;
    }

    /**
     * Every adapted base weight merged (PEFT's {@code merge_and_unload}), keyed by the weight's graph key, with the DoRA norms unmerging
     * needs. Build the plain model (no adapters) over {@code ParamSource.overlay(base, ParamSource.of(merged.weights()))} to run it.
     * With {@code safe}, every layer is checked before anything is returned and a non-finite result is a {@link MergeException}.
     */
    public Merge merge(boolean safe) {
        Map<String, INDArray> weights = new LinkedHashMap<>();
        Map<String, LoraLinear.Merged> parts = new LinkedHashMap<>();
        for (LoraLinear l : layers.values()) {
            LoraLinear.Merged m = l.merge(safe);
            parts.put(l.module(), m);
            weights.put(l.base().weight().name(), m.weight());
        }
        return new Merge(weights, parts);
    }

    /** The base weights back from {@link #merge}'s result, by graph key. */
    public Map<String, INDArray> unmerge(Merge merge) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (LoraLinear l : layers.values()) {
            LoraLinear.Merged m = merge.layers().get(l.module());
            if (m == null) throw new IllegalArgumentException("no merged weight for '" + l.module() + "'");
            out.put(l.base().weight().name(), l.unmerge(m));
        }
        return out;
    }

    /**
     * Merged weights by graph key of the base weight, and per module the merge result (with the DoRA norm cached for unmerging).
     */
    public record Merge(Map<String, INDArray> weights, Map<String, LoraLinear.Merged> layers) {}

    @Override public String toString() {
        return (config.useDora() ? "DoRA" : "LoRA") + " r=" + config.r() + " alpha=" + config.loraAlpha() + " on " + config.targetModules()
                + (fresh ? " (fresh)" : " (loaded)");
    }
}
