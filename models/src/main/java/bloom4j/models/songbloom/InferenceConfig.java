package bloom4j.models.songbloom;

import bloom4j.models.songbloom.dit.FlowSampler;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The generation defaults of a SongBloom model folder: the upstream YAML's {@code inference} block ({@code cfg_coef}, {@code temp},
 * {@code top_k}, {@code use_sampling}, {@code penalty_repeat}, {@code penalty_window}, {@code steps}, {@code diff_temp}) and its
 * top-level {@code max_dur}, as upstream passes them on (tencent-ailab/SongBloom@ef78022 {@code infer.py} L71-78:
 * {@code cfg.max_dur + 10}, {@code set_generation_params(**cfg.inference)}).
 *
 * <p>Read strictly: a block that is not a mapping, or a value of the wrong type, is an error naming the key, never a silent
 * default. Keys the block lacks take the released values, and each value remembers where it came from ({@link #source}) so an
 * error can say "the released default" rather than blame the user for a number they never wrote.
 */
public final class InferenceConfig {
    /** The released values, used for keys the config lacks. */
    static final double RELEASED_CFG = 1.5, RELEASED_TEMP = 0.9, RELEASED_DIFF_TEMP = FlowSampler.DEFAULT_TEMPERATURE,
            RELEASED_MAX_DUR = 150;
    static final int RELEASED_TOP_K = 100, RELEASED_PENALTY_WINDOW = 50, RELEASED_STEPS = FlowSampler.DEFAULT_STEPS;

    private final SamplingOptions sampling;
    private final double ditCfg;
    private final int steps;
    private final double diffTemp;
    private final double maxDurationSeconds;
    private final Map<String, Boolean> given;
    private final String where;

    private InferenceConfig(SamplingOptions sampling, double ditCfg, int steps, double diffTemp, double maxDurationSeconds,
                            Map<String, Boolean> given, String where) {
        this.sampling = sampling;
        this.ditCfg = ditCfg;
        this.steps = steps;
        this.diffTemp = diffTemp;
        this.maxDurationSeconds = maxDurationSeconds;
        this.given = given;
        this.where = where;
    }

    /** The released defaults (no config). */
    public static InferenceConfig released() { return parse(null, "no config"); }

    /**
     * Parses the upstream YAML root (or null: the released defaults).
     *
     * @param where what the YAML is, for messages (e.g. {@code "model/config.json upstream_config"} or {@code "--config x.yaml"})
     * @throws IllegalArgumentException listing every key of the wrong type or range
     */
    public static InferenceConfig parse(JsonNode upstream, String where) {
        List<String> errors = new ArrayList<>();
        Map<String, Boolean> given = new LinkedHashMap<>();
        JsonNode inf = upstream == null ? null : upstream.get("inference");
        if (inf != null && !inf.isNull() && !inf.isObject()) {
            errors.add("'inference' must be a mapping (cfg_coef, temp, top_k, steps, ...), got " + kind(inf));
            inf = null;
        }
        Reader r = new Reader(inf, errors, given);
        double cfgLm = RELEASED_CFG, cfgDit = RELEASED_CFG;
        JsonNode cfg = inf == null ? null : inf.get("cfg_coef");
        if (cfg != null && !cfg.isNull()) {
            given.put("cfg_coef", true);
            if (cfg.isNumber()) {
                cfgLm = cfgDit = cfg.asDouble();
            } else if (cfg.isArray() && cfg.size() == 2 && cfg.get(0).isNumber() && cfg.get(1).isNumber()) {
                cfgLm = cfg.get(0).asDouble();
                cfgDit = cfg.get(1).asDouble();
            } else {
                errors.add("inference.cfg_coef must be a number or a pair [lm, dit] of numbers, got " + kind(cfg) + " " + cfg);
            }
            if (!Double.isFinite(cfgLm) || !Double.isFinite(cfgDit)) errors.add("inference.cfg_coef must be finite, got " + cfg);
        }
        boolean sampling = r.bool("use_sampling", true);
        double temp = r.number("temp", RELEASED_TEMP, 0, Double.MAX_VALUE);
        int topK = r.integer("top_k", RELEASED_TOP_K, 0);
        boolean penalty = r.bool("penalty_repeat", true);
        int window = r.integer("penalty_window", RELEASED_PENALTY_WINDOW, 1);
        int steps = r.integer("steps", RELEASED_STEPS, 1);
        double diffTemp = r.number("diff_temp", RELEASED_DIFF_TEMP, 0, Double.MAX_VALUE);
        double maxDur = RELEASED_MAX_DUR;
        JsonNode md = upstream == null ? null : upstream.get("max_dur");
        if (md != null && !md.isNull()) {
            given.put("max_dur", true);
            if (!md.isNumber() || !(md.asDouble() > 0) || !Double.isFinite(md.asDouble())) {
                errors.add("max_dur must be a positive number of seconds, got " + kind(md) + " " + md);
            } else {
                maxDur = md.asDouble();
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(where + ": " + (errors.size() == 1 ? errors.get(0)
                    : errors.size() + " problems:\n  " + String.join("\n  ", errors)));
        }
        SamplingOptions s = new SamplingOptions((float) cfgLm, sampling, (float) temp, topK, penalty, window);
        return new InferenceConfig(s, cfgDit, steps, diffTemp, maxDur, given, where);
    }

    public SamplingOptions sampling() { return sampling; }

    public double ditCfg() { return ditCfg; }

    public int steps() { return steps; }

    public double diffTemp() { return diffTemp; }

    /** Upstream's {@code max_dur} (150 released); generation allows 10 s more, as {@code infer.py}. */
    public double maxDurationSeconds() { return maxDurationSeconds; }

    /** Where a key's value came from: {@code "inference.top_k in <where>"}, or that it is the released default. */
    public String source(String key) {
        String full = key.equals("max_dur") ? key : "inference." + key;
        return Boolean.TRUE.equals(given.get(key)) ? full + " in " + where
                : "the released default; " + where + " has no " + full;
    }

    /**
     * Checks what can be checked against the model without running it: top-k against the sketch classes. The message names where
     * the value came from.
     */
    public void requireFits(SketchVocabulary vocab) {
        String problem = topKProblem(vocab);
        if (problem != null) throw new IllegalArgumentException(problem);
    }

    /** Whether {@code key} was given in the config (rather than left at the released default). */
    public boolean given(String key) { return Boolean.TRUE.equals(given.get(key)); }

    /** Why top-k does not fit the vocabulary, or null when it does. */
    public String topKProblem(SketchVocabulary vocab) {
        return sampling.topK() <= vocab.classes() ? null : "top_k " + sampling.topK() + " (" + source("top_k") + ") exceeds the model's "
                + vocab.classes() + " sketch classes (" + vocab.numCodes() + " codes + EOS): set inference.top_k to at most "
                + vocab.classes() + " in the config, or pass --top-k";
    }

    private static String kind(JsonNode n) {
        return n.isTextual() ? "text" : n.isBoolean() ? "a boolean" : n.isArray() ? "a list" : n.isObject() ? "a mapping"
                : n.isNumber() ? "a number" : n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private record Reader(JsonNode block, List<String> errors, Map<String, Boolean> given) {
        JsonNode get(String key) {
            JsonNode v = block == null ? null : block.get(key);
            if (v == null || v.isNull()) return null;
            given.put(key, true);
            return v;
        }

        boolean bool(String key, boolean def) {
            JsonNode v = get(key);
            if (v == null) return def;
            if (!v.isBoolean()) {
                errors.add("inference." + key + " must be true or false, got " + kind(v) + " " + v);
                return def;
            }
            return v.asBoolean();
        }

        double number(String key, double def, double min, double max) {
            JsonNode v = get(key);
            if (v == null) return def;
            if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < min || v.asDouble() > max) {
                errors.add("inference." + key + " must be a finite number >= " + min + ", got " + kind(v) + " " + v);
                return def;
            }
            return v.asDouble();
        }

        int integer(String key, int def, int min) {
            JsonNode v = get(key);
            if (v == null) return def;
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
                errors.add("inference." + key + " must be a whole number >= " + min + ", got " + kind(v) + " " + v);
                return def;
            }
            return v.asInt();
        }
    }
}
