package bloom4j.nn.lora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's rules for which modules of a model get an adapter and with which rank and alpha: {@code check_target_module_exists}
 * (tuners_utils.py L2293-2364) and {@code get_pattern_key} (other.py L1524-1532) at peft@5d602fd. Module names are the model's dotted module paths ({@code model.layers.3.self_attn.q_proj}), without PEFT's
 * {@code base_model.model.} prefix. In order:
 * <ol>
 *   <li>{@code exclude_modules}: a regex excludes on a full match; a list excludes on an exact or dot-suffix match;</li>
 *   <li>{@code target_modules} regex: full match ({@code re.fullmatch}, not search); {@code "all-linear"}: every linear layer except the
 *       output head {@code lm_head};</li>
 *   <li>{@code target_modules} list: exact or dot-suffix match, then, only in this case, {@code layers_to_transform} keeps the module if
 *       its layer index is listed. The index is the first numeric segment that follows another segment ({@code .*?\.[^.]*\.(\d+)\.}
 *       matched at the start), or with {@code layers_pattern} the number after one of those names ({@code .*?\.<p>\.(\d+)\.}); a
 *       module without an index is not adapted.</li>
 * </ol>
 * Rank and alpha: the first {@code rank_pattern} / {@code alpha_pattern} key, in the file's order, for which
 * {@code (.*\.)?(<key>)$} matches from the start of the name (a key matches a suffix of whole segments; {@code ^name} forces a full
 * match); otherwise {@code r} / {@code lora_alpha}.
 *
 * <p>Patterns are Python regular expressions read as Java ones; the syntax PEFT configs use (classes, alternation, anchors, groups)
 * means the same in both.
 */
public final class TargetSelector {
    private static final Pattern FIRST_INDEX = Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\.");

    private final LoraConfig config;
    private final Pattern targetRegex;
    private final Pattern excludeRegex;
    private final List<Pattern> layerPatterns;
    private final Map<Pattern, Integer> ranks = new LinkedHashMap<>();
    private final Map<Pattern, Double> alphas = new LinkedHashMap<>();

    public TargetSelector(LoraConfig config) {
        this.config = config;
        Targets t = config.targetModules();
        this.targetRegex = t.isRegex() && !t.isAllLinear() ? compile(t.regex(), "target_modules") : null;
        Targets ex = config.excludeModules();
        this.excludeRegex = ex != null && ex.isRegex() ? compile(ex.regex(), "exclude_modules") : null;
        List<Pattern> lp = new ArrayList<>();
        if (config.layersPattern() != null) {
            for (String p : config.layersPattern()) lp.add(compile(".*?\\." + p + "\\.(\\d+)\\.", "layers_pattern"));
        }
        this.layerPatterns = lp;
        config.rankPattern().forEach((k, v) -> ranks.put(compile("(.*\\.)?(" + k + ")$", "rank_pattern"), v));
        config.alphaPattern().forEach((k, v) -> alphas.put(compile("(.*\\.)?(" + k + ")$", "alpha_pattern"), v));
    }

    public LoraConfig config() { return config; }

    /** Whether the linear layer named {@code module} gets an adapter. */
    public boolean matches(String module) {
        if (excluded(module)) return false;
        Targets t = config.targetModules();
        if (t.isAllLinear()) return !module.equals("lm_head") && !module.endsWith(".lm_head");
        if (t.isRegex()) return targetRegex.matcher(module).matches();
        boolean exact = t.names().contains(module);
        if (exact) return true;   // PEFT: an exact name skips the layer-index filter
        boolean found = t.names().stream().anyMatch(n -> module.endsWith("." + n));
        List<Integer> layers = config.layersToTransform();
        if (!found || layers == null || layers.isEmpty()) return found;
        Integer index = layerIndex(module);
        return index != null && layers.contains(index);
    }

    /** Whether {@code exclude_modules} excludes {@code module}. */
    public boolean excluded(String module) {
        Targets ex = config.excludeModules();
        if (ex == null) return false;
        if (ex.isRegex()) return excludeRegex.matcher(module).matches();
        return ex.names().stream().anyMatch(e -> module.equals(e) || module.endsWith("." + e));
    }

    /** The layer index PEFT reads from {@code module} for {@code layers_to_transform}, or null. */
    public Integer layerIndex(String module) {
        if (layerPatterns.isEmpty()) return group(FIRST_INDEX.matcher(module));
        for (Pattern p : layerPatterns) {
            Integer i = group(p.matcher(module));
            if (i != null) return i;
        }
        return null;
    }

    /** The rank of {@code module}: its {@code rank_pattern} entry, else {@code r}. */
    public int rank(String module) {
        for (var e : ranks.entrySet()) if (e.getKey().matcher(module).lookingAt()) return e.getValue();
        return config.r();
    }

    /** The alpha of {@code module}: its {@code alpha_pattern} entry, else {@code lora_alpha}. */
    public double alpha(String module) {
        for (var e : alphas.entrySet()) if (e.getKey().matcher(module).lookingAt()) return e.getValue();
        return config.loraAlpha();
    }

    /** The scaling of {@code module}. */
    public double scaling(String module) { return config.scaling(rank(module), alpha(module)); }

    private static Integer group(Matcher m) {
        // re.match: anchored at the start, not at the end
        return m.lookingAt() ? Integer.valueOf(m.group(1)) : null;
    }

    private static Pattern compile(String regex, String field) {
        try {
            return Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException(field + ": invalid regular expression '" + regex + "': " + e.getDescription(), e);
        }
    }
}
