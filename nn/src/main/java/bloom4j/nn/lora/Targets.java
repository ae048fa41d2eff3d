package bloom4j.nn.lora;

import java.util.List;
import java.util.Objects;

/**
 * PEFT's {@code target_modules} / {@code exclude_modules} value, which is either a list of names or one regular expression
 * (huggingface/peft@5d602fd {@code src/peft/tuners/tuners_utils.py} {@code check_target_module_exists}): a list entry matches a module name exactly or as a suffix of whole dotted segments
 * ({@code "q_proj"} matches {@code model.layers.0.self_attn.q_proj}, not {@code …xq_proj}); a string must match the whole name.
 * Exactly one of {@code names} and {@code regex} is non-null.
 */
public record Targets(List<String> names, String regex) {

    /** PEFT's special string: every linear layer except the output head ({@code lm_head}). */
    public static final String ALL_LINEAR = "all-linear";

    public Targets {
        if ((names == null) == (regex == null)) throw new IllegalArgumentException("give either names or a regex");
        if (names != null) {
            names = List.copyOf(names);
            for (String n : names) {
                if (n == null || n.isEmpty()) throw new IllegalArgumentException("empty module name in " + names);
            }
        }
    }

    public static Targets names(String... names) { return new Targets(List.of(names), null); }

    public static Targets names(List<String> names) { return new Targets(names, null); }

    public static Targets regex(String regex) { return new Targets(null, Objects.requireNonNull(regex, "regex")); }

    public boolean isRegex() { return regex != null; }

    /** {@code "all-linear"}, in any case, as PEFT compares it. */
    public boolean isAllLinear() { return regex != null && regex.equalsIgnoreCase(ALL_LINEAR); }

    @Override public String toString() { return names != null ? names.toString() : "regex '" + regex + "'"; }
}
