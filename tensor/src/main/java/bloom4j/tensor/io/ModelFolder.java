package bloom4j.tensor.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A bloom4j model folder, as {@code bloom4j convert} writes it, read once: {@code config.json} ({@code model_type}, the upstream
 * config kept verbatim under {@code upstream_config}), the weights ({@code model.safetensors} or shards with their index) and
 * {@code provenance.json}. Every family loads through one of these ({@code SongGenerator.load}, {@code MuqModel.load},
 * {@code OobleckVae.load}, ...), so a folder of the wrong kind, a missing or truncated config and a missing upstream config get the
 * same clear error everywhere, naming the file.
 *
 * @param dir       the folder
 * @param modelType {@code model_type} of config.json ({@code songbloom}, {@code muq}, {@code vae}, {@code zipvoice}, ...)
 * @param config    the whole config.json
 * @param upstream  the upstream config ({@code upstream_config}), or null when the folder was converted without {@code --config}
 */
public record ModelFolder(Path dir, String modelType, JsonNode config, JsonNode upstream) {
    public static final String CONFIG = "config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Whether {@code p} looks like a model folder (a folder holding config.json). */
    public static boolean isModelFolder(Path p) {
        return Files.isDirectory(p) && Files.isRegularFile(p.resolve(CONFIG));
    }

    /**
     * Reads {@code dir/config.json}.
     *
     * @throws CheckpointException naming the folder or file: not a folder, no config.json, not JSON (with line and column), not an
     *                             object, or no {@code model_type}
     */
    public static ModelFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, Files.exists(dir) ? "not a model folder (a file); give the folder 'bloom4j convert' wrote"
                    : "no such model folder");
        }
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir, "no " + CONFIG + ": not a bloom4j model folder; make one with 'bloom4j convert --from "
                    + "<checkpoint> --config <upstream config> --to " + dir + "'");
        }
        JsonNode json;
        try {
            json = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw new CheckpointException(file, "not valid JSON" + where + ": " + e.getOriginalMessage()
                    + "; the file is truncated or was edited by hand");
        }
        return of(dir, json);
    }

    /** A folder whose config.json was already parsed into {@code json} (checked as {@link #open} checks it). */
    public static ModelFolder of(Path dir, JsonNode json) throws CheckpointException {
        Path file = dir.resolve(CONFIG);
        if (json == null || !json.isObject()) throw new CheckpointException(file, "expected a JSON object, got " + json);
        JsonNode type = json.get("model_type");
        if (type == null || !type.isTextual() || type.asText().isBlank()) {
            throw new CheckpointException(file, "no 'model_type' (a string such as \"songbloom\"): not written by 'bloom4j convert'");
        }
        JsonNode up = json.get("upstream_config");
        if (up != null && !up.isObject()) {
            throw new CheckpointException(file, "'upstream_config' must be the upstream config as a JSON object, got "
                    + up.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        return new ModelFolder(dir, type.asText(), json, up);
    }

    /** This folder, if its {@code model_type} is one of {@code expected}; otherwise an error naming both. */
    public ModelFolder requireType(String... expected) throws CheckpointException {
        for (String t : expected) if (t.equals(modelType)) return this;
        throw new CheckpointException(configFile(), "model_type is '" + modelType + "', expected '" + String.join("' or '", expected)
                + "': this folder holds another kind of model");
    }

    /** The upstream config, or an error saying why the model needs it and how to convert with it. */
    public JsonNode requireUpstream(String why, String convertHint) throws CheckpointException {
        if (upstream != null) return upstream;
        throw new CheckpointException(configFile(), "no upstream_config; " + why + ". Convert again with the model's config: 'bloom4j "
                + "convert --from <checkpoint> --config " + convertHint + " --to <folder>'");
    }

    public Path configFile() { return dir.resolve(CONFIG); }

    /** A file of the folder (e.g. a {@code vae_config.json} kept next to the weights). */
    public Path file(String name) { return dir.resolve(name); }

    /** Opens the folder's weights (single file or shards); close the source when done. */
    public TensorSource openWeights() throws IOException { return Checkpoints.open(dir); }

    /**
     * SHA-256 identity of the folder's weights: of {@code model.safetensors}, or for shards of the text "name sha\n" per shard in
     * name order. Remembered in {@code .weights.sha256} beside the weights, keyed by their sizes and modification times, so that the
     * gigabytes are read once (what fine-tuning records as the base checkpoint and {@code generate --lora} checks).
     */
    public String weightsSha256() throws IOException {
        java.util.List<Path> files = new java.util.ArrayList<>();
        try (var s = java.nio.file.Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(files::add);
        }
        if (files.isEmpty()) throw new CheckpointException(dir, "no .safetensors weights in the model folder");
        StringBuilder key = new StringBuilder();
        for (Path f : files) {
            key.append(f.getFileName()).append(' ').append(java.nio.file.Files.size(f)).append(' ')
                    .append(java.nio.file.Files.getLastModifiedTime(f).toMillis()).append('\n');
        }
        Path memo = dir.resolve(".weights.sha256");
        if (java.nio.file.Files.isRegularFile(memo)) {
            String[] parts = java.nio.file.Files.readString(memo).split("\n---\n", 2);
            if (parts.length == 2 && parts[0].equals(key.toString().strip())) return parts[1].strip();
        }
        String sha;
        if (files.size() == 1) {
            sha = bloom4j.tensor.util.Sha256.of(files.get(0));
        } else {
            StringBuilder all = new StringBuilder();
            for (Path f : files) all.append(f.getFileName()).append(' ').append(bloom4j.tensor.util.Sha256.of(f)).append('\n');
            sha = bloom4j.tensor.util.Sha256.of(all.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        try {
            bloom4j.tensor.util.AtomicFiles.writeString(memo, key.toString().strip() + "\n---\n" + sha + "\n");
        } catch (IOException e) {
            // a read-only model folder: the hash is recomputed next time
        }
        return sha;
    }

    /** Where a message should point: the folder's config.json. */
    @Override public String toString() { return dir + " (" + modelType + ")"; }
}
