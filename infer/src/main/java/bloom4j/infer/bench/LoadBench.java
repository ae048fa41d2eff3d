package bloom4j.infer.bench;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Time to load every tensor of a checkpoint into ND4J arrays (what a model does at start-up), through bloom4j's readers.
 * The figure to compare is PyTorch's {@code torch.load} / {@code safetensors.torch.load_file} on the same file.
 */
public final class LoadBench {
    private LoadBench() {}

    /** One timed load. */
    public record Run(Path file, int tensors, long bytes, double seconds) {
        public double gbPerSecond() { return bytes / 1e9 / seconds; }
    }

    public static Run loadAll(Path file) throws IOException {
        long t0 = System.nanoTime();
        long bytes = 0;
        int n = 0;
        List<INDArray> keep = new ArrayList<>();
        try (TensorSource src = Checkpoints.open(file)) {
            for (String name : src.names()) {
                INDArray a = src.load(name);
                keep.add(a);
                bytes += a.length() * a.dataType().width();
                n++;
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (keep.size() != n) throw new AssertionError();
        return new Run(file, n, bytes == 0 ? Files.size(file) : bytes, s);
    }
}
