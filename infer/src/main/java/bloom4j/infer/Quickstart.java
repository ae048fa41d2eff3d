package bloom4j.infer;

import bloom4j.convert.ConvertOptions;
import bloom4j.convert.ConvertResult;
import bloom4j.convert.Converter;
import bloom4j.convert.Inspection;
import bloom4j.convert.Inspector;
import bloom4j.tensor.DType;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityRunner;
import bloom4j.tensor.util.AtomicFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The embedded end-to-end demo behind {@code bloom4j quickstart}: everything it uses ships inside bloom4j, nothing is downloaded.
 * Today it takes the bundled tiny PyTorch checkpoint (written by {@code torch.save}, with SongBloom's release parameter names),
 * inspects it, converts it into a bloom4j model folder, reloads the folder and checks it bit for bit against the checkpoint, then
 * runs the checkpoint-format parity fixture (every tensor of .pt/.ckpt files against PyTorch's own values).
 */
public final class Quickstart {
    private static final String MARKER = ".bloom4j-quickstart";

    private Quickstart() {}

    /** Runs the demo in {@code out} (created; a previous quickstart output there is replaced). Returns true when all checks pass. */
    public static boolean run(Path out, PrintStream log) throws Exception {
        prepare(out);
        Path fixture = Fixture.unpackBundled("pt-formats", out.resolve("fixture"));
        Path checkpoint = fixture.resolve("model.pt");

        log.println("== 1/4 inspect the bundled PyTorch checkpoint " + checkpoint);
        Inspection in = Inspector.inspect(checkpoint);
        in.tensors().forEach(t -> log.println("   " + t));
        log.printf(Locale.ROOT, "   %d tensors, %d elements; looks like: %s%n", in.tensors().size(), in.totalElements(), in.kind().id());

        log.println("== 2/4 convert it into a bloom4j model folder");
        Path model = out.resolve("model");
        ConvertResult r = Converter.convert(new ConvertOptions(List.of(checkpoint), model, null, DType.F32, null,
                ConvertOptions.DEFAULT_SHARD_BYTES), false);
        log.println("   wrote " + r.folder() + " " + r.weightFiles().stream().map(p -> p.getFileName().toString()).toList()
                + " + config.json + provenance.json");

        log.println("== 3/4 reload the converted folder and compare bit for bit with the checkpoint");
        boolean same = sameTensors(checkpoint, model, log);

        log.println("== 4/4 parity of bloom4j's checkpoint reader against PyTorch (fixture pt-formats)");
        ParityRunner.Outcome parity = ParityRunner.run(fixture, log);

        boolean ok = same && parity.passed();
        log.println("quickstart: " + (ok ? "OK" : "FAILED") + " (output in " + out.toAbsolutePath() + ")");
        return ok;
    }

    private static boolean sameTensors(Path checkpoint, Path model, PrintStream log) throws IOException {
        int differing = 0;
        try (TensorSource a = Checkpoints.open(checkpoint); TensorSource b = Checkpoints.open(model)) {
            if (!new java.util.TreeSet<>(a.names()).equals(new java.util.TreeSet<>(b.names()))) {
                log.println("   names differ: " + a.names() + " vs " + b.names());
                return false;
            }
            for (String n : a.names()) {
                if (!a.raw(n).bytes().equals(b.raw(n).bytes()) || !a.info(n).equals(b.info(n))) {
                    log.println("   DIFFERENT: " + n);
                    differing++;
                }
            }
            log.println("   " + a.names().size() + " tensors, " + (differing == 0 ? "all identical" : differing + " different"));
        }
        return differing == 0;
    }

    private static void prepare(Path out) throws IOException {
        if (Files.exists(out)) {
            boolean ours = Files.exists(out.resolve(MARKER));
            boolean empty;
            try (var s = Files.list(out)) {
                empty = s.findAny().isEmpty();
            }
            if (!ours && !empty) {
                throw new IOException(out + " exists and was not made by quickstart; choose another --out folder");
            }
            AtomicFiles.deleteTree(out);
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve(MARKER), "made by bloom4j quickstart; safe to delete\n");
    }
}
