package bloom4j.nn.lora;

import bloom4j.nn.Graphs;
import bloom4j.nn.Linear;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.util.AtomicFiles;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEFT adapter folder, as {@code PeftModel.save_pretrained} writes it and {@code PeftModel.from_pretrained} reads it
 * (huggingface/peft@5d602fd {@code save_pretrained}, {@code src/peft/utils/save_and_load.py}): {@code adapter_config.json} ({@link LoraConfig}) and {@code adapter_model.safetensors}.
 *
 * <p>Tensors are held by module-relative key, the names bloom4j's graph uses below its adapter root: {@code <module>.lora_A.weight}
 * {@code [r, in]}, {@code <module>.lora_B.weight} {@code [out, r]} and, for DoRA, {@code <module>.lora_magnitude_vector} {@code [out]}.
 * In the file each key is prefixed with {@code base_model.model.}, PEFT's path to the wrapped model, and the magnitude has no
 * {@code .weight} (save_and_load.py L995-1000, the legacy ParameterDict name PEFT keeps). Reading also accepts what other writers
 * produce: keys without the prefix (adapters injected directly) and keys still holding an adapter name
 * ({@code lora_A.default.weight}, {@code lora_magnitude_vector.default.weight}, as in a Lightning state_dict of a PEFT model),
 * which is stripped as PEFT's {@code _remove_adapter_name_from_state_dict_key} does.
 */
public record PeftAdapter(LoraConfig config, Map<String, INDArray> tensors) {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PEFT's prefix for the wrapped model's modules: {@code PeftModel.base_model (LoraModel) .model}. */
    public static final String PREFIX = "base_model.model.";

    private static final Pattern KEY = Pattern.compile(
            "(?<module>.+?)\\.(?<kind>lora_A|lora_B|lora_magnitude_vector|lora_embedding_A|lora_embedding_B)(?:\\.(?<rest>.+))?");

    public PeftAdapter {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Reads a folder; an adapter name inside the keys must be absent, unique, or {@code "default"}. */
    public static PeftAdapter read(Path dir) throws IOException { return read(dir, null); }

    /**
     * Reads a folder. Keys holding an adapter name keep only {@code adapterName}'s (null: the only one present). Refused, naming the
     * file and the keys: tensors bloom4j does not load (embedding LoRA, lora_B bias, saved base biases or whole modules), an A without
     * its B or the other way round, ranks that disagree with the config, and — unlike PEFT, which silently keeps the magnitude it
     * computed from the base weights — a DoRA config without {@code lora_magnitude_vector} for every module.
     */
    public static PeftAdapter read(Path dir, String adapterName) throws IOException {
        Path cfgFile = dir.resolve(CONFIG_FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(cfgFile)) {
            throw new IOException(dir + " is not a PEFT adapter folder: " + CONFIG_FILE + " is missing");
        }
        if (!Files.isRegularFile(weights)) {
            String hint = Files.isRegularFile(dir.resolve("adapter_model.bin"))
                    ? "; it has adapter_model.bin (torch.save): save with safe_serialization=True, or convert it to safetensors" : "";
            throw new IOException(dir + ": " + WEIGHTS_FILE + " is missing" + hint);
        }
        LoraConfig config = LoraConfig.fromJson(Files.readString(cfgFile), cfgFile.toString());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        List<String> refused = new ArrayList<>();
        Set<String> names = new TreeSet<>();
        try (SafeTensorsFile f = SafeTensorsFile.open(weights)) {
            Map<String, ParsedKey> parsed = new LinkedHashMap<>();
            for (String fileKey : f.names()) {
                ParsedKey p = parse(fileKey);
                if (p == null) {
                    refused.add(fileKey + " (not a LoRA/DoRA tensor: saved base biases and modules_to_save are not supported)");
                } else if (p.kind.startsWith("lora_embedding")) {
                    refused.add(fileKey + " (LoRA on an embedding)");
                } else if (p.rest.equals("bias")) {
                    refused.add(fileKey + " (lora_bias)");
                } else {
                    parsed.put(fileKey, p);
                    if (p.adapter != null) names.add(p.adapter);
                }
            }
            if (!refused.isEmpty()) throw new IOException(weights + ": holds tensors bloom4j does not load: " + refused);
            if (adapterName == null && names.size() > 1) {
                throw new IOException(weights + ": holds the adapters " + names + "; choose one with PeftAdapter.read(dir, name)");
            }
            Map<String, String> renamed = new LinkedHashMap<>();
            for (var e : parsed.entrySet()) {
                ParsedKey p = e.getValue();
                if (p.adapter != null && adapterName != null && !p.adapter.equals(adapterName)) continue;
                String before = renamed.put(p.key(), e.getKey());
                if (before != null) throw new IOException(weights + ": '" + e.getKey() + "' and '" + before + "' are both " + p.key());
            }
            for (var e : renamed.entrySet()) tensors.put(e.getKey(), f.load(e.getValue(), DataType.FLOAT));
        }
        PeftAdapter a = new PeftAdapter(config, tensors);
        a.validate(weights.toString());
        return a;
    }

    /** Every module has A and B of the config's rank, shapes agree, and DoRA has its magnitudes. */
    void validate(String where) throws IOException {
        TargetSelector sel = new TargetSelector(config);
        List<String> problems = new ArrayList<>();
        for (String module : modules()) {
            INDArray a = tensors.get(module + ".lora_A.weight");
            INDArray b = tensors.get(module + ".lora_B.weight");
            INDArray m = tensors.get(module + ".lora_magnitude_vector");
            if (a == null || b == null) {
                problems.add(module + ": has " + (a == null ? "lora_B but no lora_A" : "lora_A but no lora_B"));
                continue;
            }
            int r = sel.rank(module);
            if (a.rank() != 2 || b.rank() != 2 || a.size(0) != r || b.size(1) != r) {
                problems.add(module + ": lora_A " + Arrays.toString(a.shape()) + " and lora_B " + Arrays.toString(b.shape())
                        + " do not have the config's rank " + r);
            }
            if (config.useDora() && m == null) {
                problems.add(module + ": use_dora is true but lora_magnitude_vector is missing (PEFT would silently recompute it from"
                        + " the base weights, a different model)");
            }
            if (m != null && (m.rank() != 1 || m.size(0) != b.size(0))) {
                problems.add(module + ": lora_magnitude_vector " + Arrays.toString(m.shape()) + " does not match lora_B's "
                        + b.size(0) + " output features");
            }
            if (m != null && !config.useDora()) problems.add(module + ": has lora_magnitude_vector but use_dora is false");
        }
        if (tensors.isEmpty()) problems.add("no adapter tensors");
        if (!problems.isEmpty()) throw new IOException(where + ": not a valid " + (config.useDora() ? "DoRA" : "LoRA") + " adapter: "
                + String.join("; ", problems));
    }

    /** Module names, in key order. */
    public List<String> modules() {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String k : tensors.keySet()) {
            ParsedKey p = parse(k);
            if (p != null) out.add(p.module);
        }
        return new ArrayList<>(out);
    }

    /**
     * Writes the folder (created if needed): {@code adapter_config.json} as PEFT lays it out, and {@code adapter_model.safetensors}
     * with PEFT's key names, F32, metadata {@code {"format": "pt"}}. Each file is replaced atomically.
     */
    public void write(Path dir) throws IOException {
        validate(dir.toString());
        Files.createDirectories(dir);
        Map<String, INDArray> file = new TreeMap<>();
        for (var e : tensors.entrySet()) {
            INDArray v = e.getValue();
            file.put(fileKey(e.getKey()), (v.dataType() == DataType.FLOAT ? v : v.castTo(DataType.FLOAT)).dup('c'));
        }
        SafeTensorsWriter.write(dir.resolve(WEIGHTS_FILE), SafeTensorsWriter.arrays(file), Map.of("format", "pt"));
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE), config.toJsonText());
    }

    /** The file key of a module-relative key: {@code base_model.model.} + key, nothing else changes. */
    public static String fileKey(String key) { return PREFIX + key; }

    /**
     * These tensors over {@code base}, named as the graph names them: module-relative keys under {@code rootPath} ("" for the graph
     * root), for {@code Scope.root(sd, adapter.over(base, ""), LoadOptions.inference().adapters(LoraAdapters.load(adapter.config()),
     * false))}.
     */
    public ParamSource over(ParamSource base, String rootPath) {
        Map<String, INDArray> named = new LinkedHashMap<>();
        tensors.forEach((k, v) -> named.put(rootPath.isEmpty() ? k : rootPath + "." + k, v));
        return ParamSource.overlay(base, ParamSource.of(named, "adapter (" + tensors.size() + " tensors)"));
    }

    /**
     * PEFT's {@code merge_and_unload} against a checkpoint: every adapted base weight of {@code base} merged with this adapter
     * (LoRA: W + s·BA; DoRA: m/‖W + s·BA‖ per row), keyed by the base weight's name. Module names are looked up under
     * {@code rootPath} ("" = the checkpoint root). The merge runs through the same {@link LoraLinear} arithmetic as training, on the
     * adapted layers alone; {@code safe} refuses non-finite results. Load the model over the base with these weights on top.
     */
    public Map<String, INDArray> mergeInto(TensorSource base, String rootPath, boolean safe) throws IOException {
        LoraAdapters adapters = LoraAdapters.load(config).under(rootPath);
        Scope root = Scope.root(Graphs.create(), over(ParamSource.of(base), rootPath), LoadOptions.inference().adapters(adapters, false));
        List<String> missing = new ArrayList<>();
        for (String module : modules()) {
            String full = rootPath.isEmpty() ? module : rootPath + "." + module;
            if (!base.contains(full + ".weight")) {
                missing.add(full + ".weight");
                continue;
            }
            long[] w = base.info(full + ".weight").shape();                                    // [out, in]
            Linear.load(root.pp(full), w[1], w[0], base.contains(full + ".bias"));
        }
        if (!missing.isEmpty()) {
            throw new IOException("the adapter targets modules the checkpoint " + base.description() + " does not have: " + missing
                    + (rootPath.isEmpty() ? "" : " (looked under '" + rootPath + "')"));
        }
        adapters.requireMatched();
        return adapters.merge(safe).weights();
    }

    private record ParsedKey(String module, String kind, String rest, String adapter) {
        String key() { return module + "." + kind + (kind.equals("lora_magnitude_vector") ? "" : "." + rest); }
    }

    /**
     * Splits a file key into module, tensor kind and the adapter name if present: {@code base_model.model.} is optional; after
     * lora_A/lora_B come {@code weight|bias} or {@code <adapter>.weight|bias}; after lora_magnitude_vector nothing, {@code weight},
     * {@code <adapter>} or {@code <adapter>.weight}.
     */
    private static ParsedKey parse(String fileKey) {
        String k = fileKey.startsWith(PREFIX) ? fileKey.substring(PREFIX.length()) : fileKey;
        Matcher m = KEY.matcher(k);
        if (!m.matches()) return null;
        String module = m.group("module"), kind = m.group("kind"), rest = m.group("rest");
        String[] parts = rest == null ? new String[0] : rest.split("\\.");
        if (kind.equals("lora_magnitude_vector")) {
            if (parts.length == 0 || (parts.length == 1 && parts[0].equals("weight"))) return new ParsedKey(module, kind, "", null);
            if (parts.length == 1) return new ParsedKey(module, kind, "", parts[0]);
            if (parts.length == 2 && parts[1].equals("weight")) return new ParsedKey(module, kind, "", parts[0]);
            return null;
        }
        if (kind.startsWith("lora_embedding")) return new ParsedKey(module, kind, "", parts.length == 1 ? parts[0] : null);
        if (parts.length == 1 && (parts[0].equals("weight") || parts[0].equals("bias"))) return new ParsedKey(module, kind, parts[0], null);
        if (parts.length == 2 && (parts[1].equals("weight") || parts[1].equals("bias"))) {
            return new ParsedKey(module, kind, parts[1], parts[0]);
        }
        return null;
    }
}
