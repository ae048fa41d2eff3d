package bloom4j.convert;

import java.nio.file.Path;
import java.util.List;

/**
 * A finished conversion: the folder, the detected kind, the weight files written, totals, the source tensors left out because the
 * model never reads them (MuQ's dead modules; listed in provenance.json too), and warnings for the user.
 */
public record ConvertResult(Path folder, ModelKind kind, List<Path> weightFiles, int tensors, long elements, long bytes,
                            List<String> skipped, List<String> warnings) {
    public ConvertResult {
        skipped = List.copyOf(skipped);
        warnings = List.copyOf(warnings);
    }
}
