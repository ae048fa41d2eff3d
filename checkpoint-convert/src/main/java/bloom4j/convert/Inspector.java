package bloom4j.convert;

import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Lists the tensors of a .pt/.pth/.bin/.ckpt/.safetensors file (or a sharded safetensors index) without reading their data. */
public final class Inspector {
    private Inspector() {}

    public static Inspection inspect(Path file) throws IOException {
        try (TensorSource src = Checkpoints.open(file)) {
            List<TensorInfo> infos = new ArrayList<>();
            for (String n : src.names()) infos.add(src.info(n));
            return new Inspection(file, Checkpoints.detect(file).description(), List.copyOf(infos), Checkpoints.metadata(file),
                    ModelKind.detect(src.names()));
        }
    }
}
