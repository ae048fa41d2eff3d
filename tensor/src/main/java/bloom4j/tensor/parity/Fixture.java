package bloom4j.tensor.parity;

import bloom4j.tensor.io.CheckpointException;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * One reference case produced by the upstream PyTorch code, a folder of three files: {@code fixture.json} says what was
 * run and with which tolerance, {@code model.pt} holds the weights under their release names, {@code io.safetensors} the inputs
 * (every random draw included) and the expected outputs.
 */
public final class Fixture implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final JsonNode json;
    private final String kind;
    private final Tolerance tolerance;
    private TensorSource io;

    private Fixture(Path dir, JsonNode json) throws CheckpointException {
        this.dir = dir;
        this.json = json;
        JsonNode k = json.get("kind");
        if (k == null || !k.isTextual() || k.asText().isBlank()) {
            throw new CheckpointException(dir.resolve("fixture.json"), "field 'kind' is missing or not a string");
        }
        this.kind = k.asText();
        JsonNode t = json.path("tolerance");
        this.tolerance = new Tolerance(t.path("atol").asDouble(0), t.path("rtol").asDouble(0));
    }

    /**
     * Copies a fixture shipped on the classpath under {@code /bloom4j/fixtures/<name>/} into {@code dest}: fixture.json, its
     * checkpoint, its io file and every file named under {@code extra_files}. Returns {@code dest}.
     */
    public static Path unpackBundled(String name, Path dest) throws IOException {
        String base = "/bloom4j/fixtures/" + name + "/";
        Files.createDirectories(dest);
        copyResource(base + "fixture.json", dest.resolve("fixture.json"));
        JsonNode json = JSON.readTree(dest.resolve("fixture.json").toFile());
        List<String> files = new ArrayList<>();
        files.add(json.path("checkpoint").asText("model.pt"));
        files.add(json.path("io").asText("io.safetensors"));
        files.addAll(fieldNames(json.path("extra_files")));
        for (String f : files) copyResource(base + f, dest.resolve(f));
        return dest;
    }

    private static void copyResource(String resource, Path to) throws IOException {
        try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("bundled fixture file " + resource + " is missing from the classpath");
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads {@code dir/fixture.json}; the io file is opened on first use. */
    public static Fixture open(Path dir) throws IOException {
        Path fj = dir.resolve("fixture.json");
        if (!Files.isRegularFile(fj)) {
            throw new CheckpointException(dir, "not a fixture folder: fixture.json is missing (a fixture folder holds fixture.json, model.pt and io.safetensors)");
        }
        JsonNode json;
        try {
            json = JSON.readTree(fj.toFile());
        } catch (IOException e) {
            throw new CheckpointException(fj, "invalid JSON: " + e.getMessage(), e);
        }
        if (json == null || !json.isObject()) throw new CheckpointException(fj, "expected a JSON object");
        return new Fixture(dir, json);
    }

    public Path dir() { return dir; }

    public String kind() { return kind; }

    public JsonNode json() { return json; }

    /** The upstream constructor arguments ({@code config}). */
    public JsonNode config() { return json.path("config"); }

    /** The fixture-wide tolerance. */
    public Tolerance tolerance() { return tolerance; }

    /**
     * The tolerance of output {@code name}: the first {@code tolerance.per_output} pattern that matches it (fnmatch: {@code *}
     * matches any run of characters, dots included; {@code ?} one character), else the fixture-wide tolerance.
     */
    public Tolerance tolerance(String name) {
        JsonNode per = json.path("tolerance").path("per_output");
        for (var it = per.fields(); it.hasNext(); ) {
            var e = it.next();
            if (fnmatch(e.getKey(), name)) {
                return new Tolerance(e.getValue().path("atol").asDouble(tolerance.atol()), e.getValue().path("rtol").asDouble(tolerance.rtol()));
            }
        }
        return tolerance;
    }

    static boolean fnmatch(String pattern, String name) {
        StringBuilder re = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            if (ch == '*') re.append(".*");
            else if (ch == '?') re.append('.');
            else re.append(java.util.regex.Pattern.quote(String.valueOf(ch)));
        }
        return name.matches(re.toString());
    }

    /** The weights file ({@code checkpoint}, default model.pt). */
    public Path checkpoint() { return dir.resolve(json.path("checkpoint").asText("model.pt")); }

    /** A file of the fixture folder, checked to exist. */
    public Path file(String name) throws CheckpointException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) throw new CheckpointException(p, "fixture file is missing");
        return p;
    }

    /** The inputs and expected outputs. */
    public TensorSource io() throws IOException {
        if (io == null) io = SafeTensorsFile.open(dir.resolve(json.path("io").asText("io.safetensors")));
        return io;
    }

    /** An input or expected output, in its stored dtype. */
    public INDArray tensor(String name) throws IOException {
        TensorSource src = io();
        if (!src.contains(name)) {
            throw new CheckpointException(dir.resolve(json.path("io").asText("io.safetensors")), "has no tensor '" + name + "'");
        }
        return src.load(name);
    }

    /** Names declared under {@code outputs} in fixture.json, in order. */
    public List<String> outputNames() { return fieldNames(json.path("outputs")); }

    /** Names declared under {@code inputs} in fixture.json, in order. */
    public List<String> inputNames() { return fieldNames(json.path("inputs")); }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    @Override public void close() throws IOException {
        if (io != null) io.close();
    }
}
