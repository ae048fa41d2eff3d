package bloom4j.nn.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A LoRA/DoRA adapter configuration: the part of PEFT's {@code LoraConfig} (peft@5d602fd {@code src/peft/tuners/lora/config.py})
 * that bloom4j implements, read from and written to {@code adapter_config.json} under PEFT's key names
 * (huggingface/peft@5d602fd {@code src/peft/tuners/lora/config.py}).
 *
 * @param r                   default rank (PEFT {@code r}, default 8)
 * @param loraAlpha           default alpha ({@code lora_alpha}, default 8); scaling is alpha/r, or alpha/√r with {@code useRslora}
 * @param loraDropout         dropout probability on the adapter branch input ({@code lora_dropout})
 * @param targetModules       which modules get an adapter ({@code target_modules}); never null here
 * @param excludeModules      modules never adapted ({@code exclude_modules}), or null
 * @param useRslora           scaling alpha/√r ({@code use_rslora})
 * @param useDora             DoRA: magnitude per output feature, detached weight norm ({@code use_dora})
 * @param initLoraWeights     {@code "true"} (A kaiming-uniform a=√5, B = 0), {@code "gaussian"} (A ~ N(0, 1/r²), B = 0) or
 *                            {@code "false"} (both nn.Linear's default, not a no-op); other PEFT values (pissa, olora, ...) are kept so a
 *                            trained adapter loads, but cannot initialise a fresh one
 * @param layersToTransform   layer indices to adapt ({@code layers_to_transform}), or null for all
 * @param layersPattern       names of the layer lists the index follows ({@code layers_pattern}), or null
 * @param rankPattern         per-module rank overrides ({@code rank_pattern}), first matching key wins, in file order
 * @param alphaPattern        per-module alpha overrides ({@code alpha_pattern})
 * @param baseModelNameOrPath informational ({@code base_model_name_or_path}), or null
 * @param taskType            informational here ({@code task_type}), or null
 * @param other               every other key of the file, written back unchanged (PEFT's own bookkeeping fields); keys bloom4j
 *                            would have to act on are refused by {@link #fromJson} rather than kept
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, Targets targetModules, Targets excludeModules,
                         boolean useRslora, boolean useDora, String initLoraWeights, List<Integer> layersToTransform,
                         List<String> layersPattern, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
                         String baseModelNameOrPath, String taskType, Map<String, JsonNode> other) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public LoraConfig {
        Objects.requireNonNull(targetModules, "targetModules: say which modules to adapt, e.g. Targets.names(\"q_proj\", \"v_proj\")");
        if (r <= 0) throw new IllegalArgumentException("r must be a positive integer, got " + r);
        if (!Double.isFinite(loraAlpha)) throw new IllegalArgumentException("lora_alpha must be finite, got " + loraAlpha);
        if (!(loraDropout >= 0 && loraDropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        initLoraWeights = initLoraWeights == null ? "true" : initLoraWeights;
        if (targetModules.isRegex() && layersToTransform != null && !layersToTransform.isEmpty()) {
            // PEFT config.py L1019-1029
            throw new IllegalArgumentException("layers_to_transform cannot be used when target_modules is a regex (" + targetModules + ")");
        }
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? null : List.copyOf(layersPattern);
        rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern == null ? Map.of() : rankPattern));
        alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern == null ? Map.of() : alphaPattern));
        rankPattern.forEach((k, v) -> {
            if (v == null || v <= 0) throw new IllegalArgumentException("rank_pattern['" + k + "'] must be positive, got " + v);
        });
        other = Collections.unmodifiableMap(new LinkedHashMap<>(other == null ? Map.of() : other));
    }

    /** A LoRA config with PEFT's defaults for everything not given. */
    public static LoraConfig lora(int r, double alpha, Targets targets) { return builder(r, alpha, targets).build(); }

    /** The same as {@link #lora}, with DoRA on. */
    public static LoraConfig dora(int r, double alpha, Targets targets) { return builder(r, alpha, targets).dora(true).build(); }

    /** A builder starting from PEFT's defaults. */
    public static Builder builder(int r, double alpha, Targets targets) { return new Builder(r, alpha, targets); }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        Builder b = new Builder(r, loraAlpha, targetModules);
        b.dropout = loraDropout;
        b.exclude = excludeModules;
        b.rslora = useRslora;
        b.dora = useDora;
        b.init = initLoraWeights;
        b.layers = layersToTransform;
        b.layersPattern = layersPattern;
        b.rankPattern = rankPattern;
        b.alphaPattern = alphaPattern;
        b.baseModel = baseModelNameOrPath;
        b.taskType = taskType;
        b.other = other;
        return b;
    }

    /** The one place that lists every field: each setter changes one, {@link #build} checks them all. */
    public static final class Builder {
        private int r;
        private double alpha;
        private Targets targets;
        private double dropout;
        private Targets exclude;
        private boolean rslora, dora;
        private String init = "true";
        private List<Integer> layers;
        private List<String> layersPattern;
        private Map<String, Integer> rankPattern;
        private Map<String, Double> alphaPattern;
        private String baseModel, taskType;
        private Map<String, JsonNode> other;

        private Builder(int r, double alpha, Targets targets) {
            this.r = r;
            this.alpha = alpha;
            this.targets = targets;
        }

        public Builder rank(int v) { r = v; return this; }
        public Builder alpha(double v) { alpha = v; return this; }
        public Builder targets(Targets v) { targets = v; return this; }
        public Builder dropout(double p) { dropout = p; return this; }
        public Builder exclude(Targets v) { exclude = v; return this; }
        public Builder rslora(boolean on) { rslora = on; return this; }
        public Builder dora(boolean on) { dora = on; return this; }
        public Builder init(String v) { init = v; return this; }
        public Builder layers(List<Integer> indices, List<String> pattern) { layers = indices; layersPattern = pattern; return this; }
        public Builder patterns(Map<String, Integer> ranks, Map<String, Double> alphas) { rankPattern = ranks; alphaPattern = alphas; return this; }
        public Builder baseModel(String v) { baseModel = v; return this; }
        public Builder taskType(String v) { taskType = v; return this; }
        public Builder other(Map<String, JsonNode> v) { other = v; return this; }

        public LoraConfig build() {
            return new LoraConfig(r, alpha, dropout, targets, exclude, rslora, dora, init, layers, layersPattern, rankPattern,
                    alphaPattern, baseModel, taskType, other);
        }
    }

    public LoraConfig withDora(boolean on) { return toBuilder().dora(on).build(); }

    public LoraConfig withDropout(double p) { return toBuilder().dropout(p).build(); }

    public LoraConfig withRslora(boolean on) { return toBuilder().rslora(on).build(); }

    public LoraConfig withInit(String init) { return toBuilder().init(init).build(); }

    public LoraConfig withExclude(Targets exclude) { return toBuilder().exclude(exclude).build(); }

    public LoraConfig withLayers(List<Integer> layers, List<String> pattern) { return toBuilder().layers(layers, pattern).build(); }

    public LoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
        return toBuilder().patterns(ranks, alphas).build();
    }

    public LoraConfig withBaseModel(String nameOrPath) { return toBuilder().baseModel(nameOrPath).build(); }

    /** The scaling of a module with this rank and alpha: alpha/r, or alpha/√r with rsLoRA (PEFT layer.py L278-281). */
    public double scaling(int rank, double alpha) { return useRslora ? alpha / Math.sqrt(rank) : alpha / rank; }

    // ---------------------------------------------------------------------------------------------------------------------------
    // adapter_config.json

    /** Keys bloom4j reads into typed fields. */
    private static final List<String> TYPED = List.of("peft_type", "r", "lora_alpha", "lora_dropout", "target_modules",
            "exclude_modules", "use_rslora", "use_dora", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern",
            "alpha_pattern", "base_model_name_or_path", "task_type", "fan_in_fan_out", "bias", "lora_bias", "modules_to_save",
            "inference_mode");

    /**
     * Keys of other LoRA variants or features bloom4j does not implement: a file setting any of them describes a different model, so
     * it is refused rather than silently loaded as plain LoRA. The value counts as unset when null, false, empty, or the
     * default given here.
     */
    private static final Map<String, String> UNSUPPORTED = Map.ofEntries(
            Map.entry("velora_config", "VeLoRA"), Map.entry("alora_invocation_tokens", "activated LoRA (aLoRA)"),
            Map.entry("monteclora_config", "MonteCLoRA"), Map.entry("use_bdlora", "BD-LoRA"), Map.entry("arrow_config", "Arrow routing"),
            Map.entry("kasa_config", "KaSA"), Map.entry("use_qalora", "QA-LoRA"), Map.entry("layer_replication", "layer replication"),
            Map.entry("target_parameters", "LoRA on nn.Parameter targets"), Map.entry("trainable_token_indices", "trainable tokens"),
            Map.entry("megatron_config", "Megatron parallel linear layers"));

    /**
     * Parses an {@code adapter_config.json}. Missing keys take PEFT's dataclass defaults, except that {@code target_modules} is
     * required (PEFT's per-architecture default lists do not apply to bloom4j's models). Refused, with the reason: another
     * {@code peft_type}; any variant field of {@link #UNSUPPORTED}; {@code fan_in_fan_out} (GPT-2 Conv1D storage), {@code lora_bias},
     * {@code bias} other than "none" and {@code modules_to_save}, none of which bloom4j saves or loads.
     */
    public static LoraConfig fromJson(JsonNode n, String where) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException(where + ": expected a JSON object");
        String type = n.path("peft_type").asText(null);
        if (type == null) throw new IllegalArgumentException(where + ": 'peft_type' is missing (PEFT requires it)");
        if (!type.equals("LORA")) throw new IllegalArgumentException(where + ": peft_type '" + type + "' is not LORA; bloom4j loads LoRA and DoRA only");
        List<String> refused = new ArrayList<>();
        for (var e : UNSUPPORTED.entrySet()) {
            JsonNode v = n.get(e.getKey());
            if (isSet(v)) refused.add(e.getKey() + " = " + v + " (" + e.getValue() + ")");
        }
        if (n.path("fan_in_fan_out").asBoolean(false)) refused.add("fan_in_fan_out = true (Conv1D [in, out] weights; bloom4j's are [out, in])");
        if (n.path("lora_bias").asBoolean(false)) refused.add("lora_bias = true (a bias on lora_B)");
        String bias = n.path("bias").asText("none");
        if (!bias.equals("none")) refused.add("bias = '" + bias + "' (trained base biases)");
        if (isSet(n.get("modules_to_save"))) refused.add("modules_to_save = " + n.get("modules_to_save") + " (fully trained modules)");
        if (!n.path("init_lora_weights").isBoolean() && n.path("init_lora_weights").asText("").equalsIgnoreCase("mica")) {
            refused.add("init_lora_weights = 'mica' (a LoRA variant)");
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException(where + ": uses features bloom4j does not implement: " + String.join("; ", refused));
        }

        Targets targets = targets(n.get("target_modules"), "target_modules", where);
        if (targets == null) {
            throw new IllegalArgumentException(where + ": 'target_modules' is missing or null; bloom4j needs the list of adapted modules");
        }
        Map<String, Integer> ranks = new LinkedHashMap<>();
        n.path("rank_pattern").fields().forEachRemaining(e -> ranks.put(e.getKey(), e.getValue().asInt()));
        Map<String, Double> alphas = new LinkedHashMap<>();
        n.path("alpha_pattern").fields().forEachRemaining(e -> alphas.put(e.getKey(), e.getValue().asDouble()));
        JsonNode init = n.get("init_lora_weights");
        String initText = init == null || init.isNull() ? "true" : init.isBoolean() ? Boolean.toString(init.booleanValue()) : init.asText();
        Map<String, JsonNode> other = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> {
            if (!TYPED.contains(e.getKey())) other.put(e.getKey(), e.getValue());
        });
        try {
            return new LoraConfig(n.path("r").asInt(8), n.path("lora_alpha").asDouble(8), n.path("lora_dropout").asDouble(0), targets,
                    targets(n.get("exclude_modules"), "exclude_modules", where), n.path("use_rslora").asBoolean(false),
                    n.path("use_dora").asBoolean(false), initText, ints(n.get("layers_to_transform")),
                    strings(n.get("layers_pattern")), ranks, alphas, text(n.get("base_model_name_or_path")), text(n.get("task_type")),
                    other);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    public static LoraConfig fromJson(String json, String where) {
        try {
            return fromJson(JSON.readTree(json), where);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The config as PEFT 0.20 writes it: every field of PEFT's LoraConfig that a fresh PEFT save contains, with PEFT's defaults
     * for what bloom4j does not set, overlaid by {@link #other} (so a file read and written again keeps its keys), and
     * {@code inference_mode = true} as PEFT forces on save.
     */
    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        // PEFT's defaults for the fields bloom4j leaves alone (lora config.py at peft@5d602fd).
        for (String k : List.of("alora_invocation_tokens", "arrow_config", "auto_mapping", "corda_config", "eva_config", "kasa_config",
                "layer_replication", "lora_ga_config", "megatron_config", "modules_to_save", "monteclora_config", "revision",
                "target_parameters", "trainable_token_indices", "use_bdlora", "velora_config")) {
            o.putNull(k);
        }
        o.put("bias", "none");
        o.put("ensure_weight_tying", false);
        o.put("fan_in_fan_out", false);
        o.set("loftq_config", f.objectNode());
        o.put("lora_bias", false);
        o.put("megatron_core", "megatron.core");
        o.put("qalora_group_size", 16);
        o.put("use_qalora", false);
        other.forEach(o::set);

        o.put("peft_type", "LORA");
        o.put("inference_mode", true);
        o.put("r", r);
        putNumber(o, "lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        o.set("target_modules", targetsJson(targetModules));
        o.set("exclude_modules", targetsJson(excludeModules));
        o.put("use_rslora", useRslora);
        o.put("use_dora", useDora);
        if (initLoraWeights.equals("true") || initLoraWeights.equals("false")) o.put("init_lora_weights", Boolean.parseBoolean(initLoraWeights));
        else o.put("init_lora_weights", initLoraWeights);
        if (layersToTransform == null) o.putNull("layers_to_transform");
        else layersToTransform.forEach(o.putArray("layers_to_transform")::add);
        if (layersPattern == null) o.putNull("layers_pattern");
        else layersPattern.forEach(o.putArray("layers_pattern")::add);
        ObjectNode rp = o.putObject("rank_pattern");
        rankPattern.forEach(rp::put);
        ObjectNode ap = o.putObject("alpha_pattern");
        alphaPattern.forEach((k, v) -> putNumber(ap, k, v));
        if (baseModelNameOrPath == null) o.putNull("base_model_name_or_path");
        else o.put("base_model_name_or_path", baseModelNameOrPath);
        if (taskType == null) o.putNull("task_type");
        else o.put("task_type", taskType);
        return o;
    }

    /** {@link #toJson()} as the text of {@code adapter_config.json}, laid out as PEFT writes it. */
    public String toJsonText() { return PythonJson.dumps(toJson()); }

    private static void putNumber(ObjectNode o, String k, double v) {
        // PEFT writes integer alphas as ints (lora_alpha: int = 8); a float alpha stays a float.
        if (v == Math.rint(v) && Math.abs(v) < 1e15) o.put(k, (long) v);
        else o.put(k, v);
    }

    private static JsonNode targetsJson(Targets t) {
        if (t == null) return JsonNodeFactory.instance.nullNode();
        if (t.isRegex()) return JsonNodeFactory.instance.textNode(t.regex());
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        t.names().forEach(a::add);
        return a;
    }

    private static boolean isSet(JsonNode v) {
        if (v == null || v.isNull()) return false;
        if (v.isBoolean()) return v.booleanValue();
        if (v.isContainerNode()) return !v.isEmpty();
        return true;
    }

    private static Targets targets(JsonNode v, String key, String where) {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return Targets.regex(v.textValue());
        if (v.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual()) throw new IllegalArgumentException(where + ": '" + key + "' must hold strings, got " + e);
                names.add(e.textValue());
            }
            return Targets.names(names);
        }
        throw new IllegalArgumentException(where + ": '" + key + "' must be a list of names or a regex string, got " + v);
    }

    private static List<Integer> ints(JsonNode v) {
        if (v == null || v.isNull()) return null;
        if (v.isInt()) return List.of(v.intValue());
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v) out.add(e.intValue());
        return out;
    }

    private static List<String> strings(JsonNode v) {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return List.of(v.textValue());
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) out.add(e.asText());
        return out;
    }

    private static String text(JsonNode v) { return v == null || v.isNull() ? null : v.asText(); }
}
