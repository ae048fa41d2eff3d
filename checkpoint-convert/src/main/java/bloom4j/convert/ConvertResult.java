package bloom4j.convert;

import java.nio.file.Path;
import java.util.List;

/** A finished conversion: the folder, the detected kind, the weight files written, and totals. */
public record ConvertResult(Path folder, ModelKind kind, List<Path> weightFiles, int tensors, long elements, long bytes) {}
