package bloom4j.convert;

import bloom4j.tensor.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What to convert and how.
 *
 * @param sources        one or more checkpoints whose tensors together form the model (names must not repeat across files)
 * @param output         the model folder to create; it must not exist yet (or be empty): a converted model is never overwritten
 * @param kind           the model family, or null to detect it from the parameter names
 * @param dtype          element type for floating tensors (F32, BF16 or F16); integer buffers keep their type
 * @param upstreamConfig the upstream yaml/json config, stored in config.json for the model loader; null if none
 * @param maxShardBytes  shard the weights above this many bytes
 * @param allowExpandedViews read torch views that expand far beyond their storage (stride 0); refused by default
 */
public record ConvertOptions(List<Path> sources, Path output, ModelKind kind, DType dtype, Path upstreamConfig, long maxShardBytes,
                             boolean allowExpandedViews) {

    public ConvertOptions(List<Path> sources, Path output, ModelKind kind, DType dtype, Path upstreamConfig, long maxShardBytes) {
        this(sources, output, kind, dtype, upstreamConfig, maxShardBytes, false);
    }

    public static final long DEFAULT_SHARD_BYTES = 4L << 30;

    public ConvertOptions {
        if (sources == null || sources.isEmpty()) throw new IllegalArgumentException("no source checkpoint given (--from FILE...)");
        sources = List.copyOf(sources);
        for (Path p : sources) {
            if (!Files.exists(p)) throw new IllegalArgumentException("--from " + p + ": no such file");
        }
        if (output == null) throw new IllegalArgumentException("no output folder given (--to DIR)");
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("--dtype must be f32, bf16 or f16, got " + dtype);
        }
        if (upstreamConfig != null && !Files.isRegularFile(upstreamConfig)) {
            throw new IllegalArgumentException("--config " + upstreamConfig + ": no such file");
        }
        if (maxShardBytes < 1) throw new IllegalArgumentException("--shard-size must be positive, got " + maxShardBytes);
    }
}
