package bloom4j.tensor.io;

import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;

/**
 * Parity kind {@code pt-formats}: every tensor of every torch.save file of the fixture, read by {@link PtCheckpoint}, equals the
 * values PyTorch itself loaded (io.safetensors, key {@code <file>/<path>}), and no file holds a tensor the reference lacks.
 */
public final class PtFormatsParity implements ParityKind {

    @Override public String kind() { return "pt-formats"; }

    @Override public String description() {
        return "torch.save / Lightning checkpoints: dtypes, views, nested containers, read by bloom4j's pickle reader";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        TensorSource io = f.io();
        for (Iterator<String> it = f.json().path("files").fieldNames(); it.hasNext(); ) {
            String file = it.next();
            TreeSet<String> expected = new TreeSet<>();
            for (String n : io.names()) if (n.startsWith(file + "/")) expected.add(n);
            try (PtCheckpoint c = PtCheckpoint.open(f.file(file))) {
                Map<String, PtTensor> tensors = c.flatten();
                TreeSet<String> found = new TreeSet<>();
                for (Map.Entry<String, PtTensor> e : tensors.entrySet()) {
                    String key = file + "/" + e.getKey();
                    found.add(key);
                    if (!expected.contains(key)) continue;
                    INDArray want = io.load(key);
                    DataType as = want.dataType().isFPType() ? DataType.FLOAT : DataType.LONG;
                    report.compare(key, e.getValue().raw().toINDArray(as), want);
                }
                TreeSet<String> missing = new TreeSet<>(expected);
                missing.removeAll(found);
                TreeSet<String> extra = new TreeSet<>(found);
                extra.removeAll(expected);
                report.check(file + " (every tensor accounted for)", missing.isEmpty() && extra.isEmpty(),
                        (missing.isEmpty() ? "" : "missing " + missing) + (extra.isEmpty() ? "" : " unexpected " + extra));
            }
        }
    }
}
