package bloom4j.convert;

import java.nio.file.Path;
import java.util.List;

/** A finished conversion: the folder, the detected kind, the weight files written, totals, and warnings for the user. */
public record ConvertResult(Path folder, ModelKind kind, List<Path> weightFiles, int tensors, long elements, long bytes,
                            List<String> warnings) {
    public ConvertResult {
        warnings = List.copyOf(warnings);
    }
}
