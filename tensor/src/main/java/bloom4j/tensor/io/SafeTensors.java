package bloom4j.tensor.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens safetensors weights in whichever of the Hugging Face layouts they come: a single file, a shard index
 * ({@code model.safetensors.index.json}), or a model directory holding either.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** File name of an unsharded model in a Hugging Face model directory. */
    public static final String SINGLE_FILE = "model.safetensors";

    /** File name of the shard index in a Hugging Face model directory. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /**
     * Opens {@code path}: a directory reads its {@value #INDEX_FILE} if present, else its {@value #SINGLE_FILE}; a {@code .json}
     * file is read as a shard index; any other file as a single safetensors file.
     */
    public static TensorSource open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(INDEX_FILE))) return ShardedSafeTensors.open(path.resolve(INDEX_FILE));
            if (Files.isRegularFile(path.resolve(SINGLE_FILE))) return SafeTensorsFile.open(path.resolve(SINGLE_FILE));
            throw new CheckpointException(path, "directory holds neither " + INDEX_FILE + " nor " + SINGLE_FILE);
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".json")) return ShardedSafeTensors.open(path);
        return SafeTensorsFile.open(path);
    }
}
